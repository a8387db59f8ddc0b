import { describe, expect, it } from 'vitest';
import { cmdArgs } from '../../test/helpers/cmd-args';
import { parseConfig } from './config';

const parse = (extra: Record<string, unknown>) => parseConfig(cmdArgs({ type: 'portmap', ...extra }));
const withMappings = (portMappings: unknown[], extra: Record<string, unknown> = {}) => parse({ runtimeConfig: { portMappings }, ...extra });

describe('portmap config', () => {
  it('has the reference defaults: snat on, masqAll off, no mappings', () => {
    expect(parse({})).toMatchObject({ snat: true, masqAll: false, mappings: [] });
  });

  it('defaults the protocol to tcp, lowercases it, and reads hostIP "0.0.0.0" / "::" as one family', () => {
    const conf = withMappings([
      { hostPort: 80, containerPort: 8080 },
      { hostPort: 53, containerPort: 53, protocol: 'UDP', hostIP: '0.0.0.0' },
      { hostPort: 54, containerPort: 53, protocol: 'sctp', hostIP: '::' },
      { hostPort: 55, containerPort: 53, hostIP: '2001:DB8::0:1' },
    ]);
    expect(conf.mappings.map(({ field: _f, ...m }) => m)).toEqual([
      { hostPort: 80, containerPort: 8080, protocol: 'tcp' },
      { hostPort: 53, containerPort: 53, protocol: 'udp', family: 4 },
      { hostPort: 54, containerPort: 53, protocol: 'sctp', family: 6 },
      { hostPort: 55, containerPort: 53, protocol: 'tcp', hostIP: '2001:db8::1', family: 6 },
    ]);
  });

  it("reads go-cni's field names (containerd's CRI); an empty HostIP means every address", () => {
    const conf = withMappings([
      { HostPort: 18301, ContainerPort: 80, Protocol: 'tcp', HostIP: '' },
      { HostPort: 18302, ContainerPort: 53, Protocol: 'udp', HostIP: '127.0.0.1' },
    ]);
    expect(conf.mappings.map(({ field: _f, ...m }) => m)).toEqual([
      { hostPort: 18301, containerPort: 80, protocol: 'tcp' },
      { hostPort: 18302, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1', family: 4 },
    ]);
  });

  it.each([
    [[{ hostPort: 0, containerPort: 1 }], /portMappings\[0\]\.hostPort.*at least 1/],
    [[{ hostPort: 1, containerPort: 70000 }], /portMappings\[0\]\.containerPort.*at most 65535/],
    [[{ hostPort: 1.5, containerPort: 1 }], /portMappings\[0\]\.hostPort/],
    [[{ containerPort: 1 }], /portMappings\[0\]\.hostPort.*required/],
    [[{ hostPort: 1, containerPort: 1, protocol: 'icmp' }], /portMappings\[0\]\.protocol/],
    [[{ hostPort: 1, containerPort: 1, hostIP: '300.1.1.1' }], /portMappings\[0\]\.hostIP/],
    [
      [
        { hostPort: 1, containerPort: 1 },
        { hostPort: 1, containerPort: 2, hostIP: '::' },
      ],
      /portMappings\[1\]\.hostPort.*already mapped by runtimeConfig\.portMappings\[0\]/,
    ],
  ])('rejects %j naming the field', (mappings, message) => {
    expect(() => withMappings(mappings)).toThrow(message);
  });

  it('allows one port on two different host addresses, and on tcp and udp', () => {
    expect(() =>
      withMappings([
        { hostPort: 1, containerPort: 1, hostIP: '10.0.0.1' },
        { hostPort: 1, containerPort: 1, hostIP: '10.0.0.2' },
      ]),
    ).not.toThrow();
    expect(() =>
      withMappings([
        { hostPort: 1, containerPort: 1 },
        { hostPort: 1, containerPort: 1, protocol: 'udp' },
      ]),
    ).not.toThrow();
  });

  it('accepts the reference backends and iptables-only fields, refuses what it cannot honour', () => {
    expect(() => parse({ backend: '' })).not.toThrow();
    expect(() => parse({ backend: 'iptables', markMasqBit: 13 })).not.toThrow();
    expect(() => parse({ backend: 'ipfw' })).toThrow(/"backend"/);
    expect(() => parse({ markMasqBit: 32 })).toThrow(/markMasqBit/);
    expect(() => parse({ markMasqBit: 1, externalSetMarkChain: 'X' })).toThrow(/markMasqBit/);
    expect(() => parse({ conditionsV4: [] })).not.toThrow();
  });

  it('takes conditions as nftables matches, words joined by spaces, and refuses what is not a match', () => {
    expect(parse({ conditionsV4: [] }).conditions).toEqual({});
    expect(parse({ conditionsV4: [''] }).conditions).toEqual({});
    expect(parse({ conditionsV4: ['ip saddr', '10.0.0.0/8'], conditionsV6: ['iifname', '"eth0"'] }).conditions).toEqual({ 4: 'ip saddr 10.0.0.0/8', 6: 'iifname "eth0"' });
    expect(parse({ conditionsV4: ['ip', 'daddr', '!=', '{ 10.0.0.1, 10.0.0.2 }'] }).conditions[4]).toBe('ip daddr != { 10.0.0.1, 10.0.0.2 }');
    const refused = (words: string[], code = 7) =>
      expect(() => parse({ conditionsV4: words })).toThrow(expect.objectContaining({ code, message: expect.stringContaining('"conditionsV4"') }));
    refused(['-d', '192.0.2.1'], 2);
    refused(['!', '-s', '10.0.0.0/8'], 2);
    refused(['ip', 'saddr', '10.0.0.1', 'accept']);
    refused(['ip', 'saddr', '10.0.0.1', 'JUMP', 'x']);
    refused(['meta', 'mark', 'set', '1']);
    refused(['ip daddr 10.0.0.1;', 'flush ruleset']);
    refused(['ip daddr 10.0.0.1\nflush ruleset']);
    refused(['ip', 'saddr', '@allowed']);
    refused(['iifname', '"eth0']);
    refused(['iifname', '"a', 'b"']);
    refused(['ip', 'saddr', '10.0.0.1', '#', 'comment']);
  });
});
