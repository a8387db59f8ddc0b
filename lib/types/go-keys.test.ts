import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { goField, matchGoKeys } from './go-keys';
import { lenientNetConf, lenientString, NetConf } from './netconf';
import { parseWith } from './parse';
import { Result } from './result';

const Mapping = z.looseObject({ hostPort: z.int(), containerPort: z.int(), protocol: z.optional(z.string()), hostIP: z.optional(z.string()) });
const Conf = z.looseObject({
  name: z.string(),
  runtimeConfig: z.optional(z.looseObject({ portMappings: z.optional(z.array(Mapping)), aliases: z.optional(z.record(z.string(), z.array(z.string()))) })),
  ranges: z.optional(z.array(z.array(z.looseObject({ subnet: z.string(), rangeStart: z.optional(z.string()) })))),
  pair: z.optional(z.tuple([z.looseObject({ ifName: z.string() }), z.string()])),
  either: z.optional(z.union([z.looseObject({ rate: z.int() }), z.looseObject({ ceil: z.string() })])),
});

describe("Go's key matching", () => {
  it("reads go-cni's field names (containerd's CRI) as the reference's JSON names, in arrays of objects", () => {
    const conf = parseWith(Conf, { name: 'k8s', runtimeConfig: { portMappings: [{ HostPort: 18301, ContainerPort: 80, Protocol: 'tcp', HostIP: '' }] } }, 'config');
    expect(conf.runtimeConfig?.portMappings).toEqual([{ hostPort: 18301, containerPort: 80, protocol: 'tcp', hostIP: '' }]);
  });

  it('matches any case at every depth: nested objects, arrays of arrays, tuples, union forms', () => {
    expect(
      matchGoKeys(Conf, {
        NAME: 'n',
        RuntimeConfig: { PORTMAPPINGS: [{ hostport: 1, CONTAINERPORT: 2 }] },
        Ranges: [[{ Subnet: '10.0.0.0/24', RangeStart: '' }]],
        Pair: [{ IfName: 'eth0' }, 'x'],
        Either: { Ceil: '1' },
      }),
    ).toEqual({
      name: 'n',
      runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 2 }] },
      ranges: [[{ subnet: '10.0.0.0/24', rangeStart: '' }]],
      pair: [{ ifName: 'eth0' }, 'x'],
      either: { ceil: '1' },
    });
  });

  it('an exact key wins over a case-insensitive one wherever it stands; among case-insensitive ones the last wins', () => {
    const first = { portMappings: [{ hostPort: 1, HostPort: 2, containerPort: 80 }] };
    const last = { portMappings: [{ HostPort: 2, hostPort: 1, containerPort: 80 }] };
    for (const runtimeConfig of [first, last]) {
      expect(parseWith(Conf, { name: 'n', runtimeConfig }, 'config').runtimeConfig?.portMappings?.[0].hostPort).toBe(1);
    }
    const folded = { portMappings: [{ HOSTPORT: 1, HostPort: 2, containerPort: 80 }] };
    expect(parseWith(Conf, { name: 'n', runtimeConfig: folded }, 'config').runtimeConfig?.portMappings?.[0].hostPort).toBe(2);
  });

  it('keeps unknown keys as they are and never renames the keys of a map (names of networks, capabilities)', () => {
    const out = matchGoKeys(Conf, { name: 'n', Extra: { HostPort: 1 }, runtimeConfig: { Aliases: { Front: ['a'], front: ['b'] } } });
    expect(out).toEqual({ name: 'n', Extra: { HostPort: 1 }, runtimeConfig: { aliases: { Front: ['a'], front: ['b'] } } });
    const caps = parseWith(NetConf, { cniVersion: '1.0.0', name: 'n', Capabilities: { PortMappings: true } }, 'config');
    expect(caps.capabilities).toEqual({ PortMappings: true });
  });

  it("folds as Go does: ASCII case, and the long s and Kelvin sign; not other letters' case mappings", () => {
    expect(goField({ 'ho\u017ftPort': 1 }, 'hostPort')).toBe(1);
    expect(goField({ \u212aey: 1 }, 'key')).toBe(1);
    // JavaScript upper-cases ß to SS; Go's field matching does not
    expect(goField({ ß: 1 }, 'ss')).toBeUndefined();
    expect(goField({ Name: 'a', name: 'b' }, 'name')).toBe('b');
    expect(goField(['name'], 'name')).toBeUndefined();
  });

  it('a "__proto__" key stays data, and values that are not objects pass through', () => {
    const out = matchGoKeys(Conf, JSON.parse('{"name":"n","__proto__":{"polluted":true}}')) as Record<string, unknown>;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(matchGoKeys(Conf, 'text')).toBe('text');
    expect(matchGoKeys(Conf, [1])).toEqual([1]);
  });

  it('the CNI wire objects: the network config, a prevResult, DEL’s lenient reading', () => {
    const conf = parseWith(NetConf, { CNIVersion: '1.0.0', Name: 'n', Type: 'bridge', IPAM: { Type: 'host-local' }, PrevResult: {} }, 'config');
    expect(conf).toMatchObject({ cniVersion: '1.0.0', name: 'n', type: 'bridge', ipam: { type: 'host-local' }, prevResult: {} });
    const prev = parseWith(Result, { CNIVersion: '1.0.0', IPs: [{ Address: '10.0.0.2/24', Interface: 0 }], Interfaces: [{ Name: 'eth0', Sandbox: '/run/netns/x' }] }, 'prevResult');
    expect(prev).toMatchObject({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', interface: 0 }], interfaces: [{ name: 'eth0', sandbox: '/run/netns/x' }] });
    const { config } = lenientNetConf({ cniVersion: '1.0.0', Name: 'n', IPAM: { Type: 'host-local', DataDir: '/tmp/x' } }, 'config');
    expect(config.name).toBe('n');
    expect(lenientString(config, 'ipam', 'dataDir')).toBe('/tmp/x');
    expect(lenientString({ IPAM: { type: 'dhcp' } }, 'ipam', 'type')).toBe('dhcp');
  });
});
