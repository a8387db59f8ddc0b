import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useNodeFixture } from '../helpers/node-fixture';
import { addChain, chainConfs, inHost, invokeChainPlugin, ok, suiteElements, type ChainNode, type ChainPlugin } from '../helpers/podman-chain';

let node: ChainNode;
const pool = useNodeFixture('cnit-dell-', (fixture) => (node = fixture));
const NET = { name: 'dell', octet: 62 };
const reservations = () => (existsSync(join(node.dir, 'ipam', NET.name)) ? readdirSync(join(node.dir, 'ipam', NET.name)).filter((f) => /^(10\.|fd)/.test(f)) : []);
const fakePrev = { cniVersion: '1.1.0', interfaces: [{ name: 'cnidell0' }], ips: [{ address: '10.62.0.9/24' }] };

/** Configs each plugin's ADD refuses, with the code it refuses them with. */
const refused: Array<[string, ChainPlugin, object, number]> = [
  ['bridge "vlanTrunk" with a minID and no maxID', 'bridge', { vlanTrunk: [{ minID: 10 }] }, 7],
  ['bridge "ipMasqBackend": "ebtables"', 'bridge', { ipMasqBackend: 'ebtables' }, 7],
  ['bridge with an IPAM type that is a path', 'bridge', { ipam: { type: '../../bin/sh' } }, 7],
  ['bridge with an IPAM plugin that is not installed', 'bridge', { ipam: { type: 'no-such-ipam' } }, 7],
  ['bridge "dns" of the wrong type', 'bridge', { dns: 5 }, 7],
  ['host-local rangeStart equal to the network address', 'bridge', { ipam: { type: 'host-local', ranges: [[{ subnet: '10.62.0.0/24', rangeStart: '10.62.0.0' }]] } }, 7],
  ['firewall "firewalldZone" that is no zone name', 'firewall', { backend: 'firewalld', firewalldZone: 'a b', prevResult: fakePrev }, 7],
  ['portmap non-empty conditionsV4', 'portmap', { conditionsV4: ['-d', '192.0.2.1'], prevResult: fakePrev }, 2],
  ['tuning sysctl outside net.*', 'tuning', { sysctl: { 'kernel.domainname': 'x' }, prevResult: fakePrev }, 7],
  ['a prevResult that cannot be decoded', 'portmap', { prevResult: { ips: 'none' } }, 6],
];

describe('DEL never refuses what ADD refused', () => {
  it.each(refused)('%s: ADD fails, DEL succeeds (twice), nothing is left', async (_what, plugin, override, code) => {
    const ctr = pool.make('c');
    const add = await invokeChainPlugin(node, NET, plugin, 'ADD', ctr, undefined, override);
    expect(add.json?.code, add.stdout).toBe(code);
    ok(await invokeChainPlugin(node, NET, plugin, 'DEL', ctr, undefined, override));
    ok(await invokeChainPlugin(node, NET, plugin, 'DEL', ctr, undefined, override));
    expect(
      node.host
        .ipJson<Array<{ ifname: string }>>('link', 'show')
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['lo', 'uplink0']);
    expect(suiteElements(node)).toEqual([]);
    expect(reservations()).toEqual([]);
  });

  it('a DEL whose config ADD would now refuse still removes everything the earlier ADD made', async () => {
    const ctr = pool.make('c');
    await addChain(node, NET, ctr);
    expect(suiteElements(node).length).toBeGreaterThan(0);
    const hostile: Record<ChainPlugin, object> = {
      tuning: { sysctl: { 'kernel.domainname': 'x' } },
      firewall: { backend: 'firewalld', firewalldZone: '../x' },
      portmap: { conditionsV4: ['-d', '192.0.2.1'], runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 'x' }] } },
      bridge: { vlan: 5000, ipMasqBackend: 'ebtables', ipam: { ...(chainConfs(node, NET).bridge as { ipam: object }).ipam, ranges: [[{ subnet: '10.62.0.0/33' }]] } },
    };
    for (const plugin of ['tuning', 'firewall', 'portmap', 'bridge'] as const) {
      ok(await invokeChainPlugin(node, NET, plugin, 'DEL', ctr, undefined, hostile[plugin]));
    }
    expect(suiteElements(node)).toEqual([]);
    expect(inHost(node, 'iptables-save')).not.toContain('10.62.0.');
    expect(ctr.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(reservations()).toEqual([]);
  });
});
