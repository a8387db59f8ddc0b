import { describe, expect, it } from 'vitest';
import { formatIP, formatPrefix } from '../../lib/ip';
import type { CmdArgs } from '../../lib/skel';
import { cmdArgs } from '../../test/helpers/cmd-args';
import { parseConfig, resultIPs } from './config';

const cmd = (ipam: Record<string, unknown>, extra: Record<string, unknown> = {}, cniArgs = ''): CmdArgs =>
  cmdArgs({ type: 'bridge', ipam: { type: 'static', ...ipam }, ...extra }, { cniArgs });

const addressesOf = (c: CmdArgs) => resultIPs(parseConfig(c).addresses);

/** The CNI error a parse throws, as code and message. */
function failure(c: CmdArgs): { code?: number; message: string } | undefined {
  try {
    parseConfig(c);
  } catch (err) {
    return { code: (err as { code?: number }).code, message: (err as Error).message };
  }
  return undefined;
}

describe('static parseConfig', () => {
  it('reads addresses, routes and dns in the reference wire shape', () => {
    const conf = parseConfig(
      cmd({
        addresses: [{ address: '10.10.0.5/24', gateway: '10.10.0.1' }, { address: 'fd00:0:0::5/64' }],
        routes: [{ dst: '0.0.0.0/0' }, { dst: '10.2.3.4/8', gw: '10.10.0.254', extra: 1 }, { dst: 'fd00:1::/64', gw: 'fd00::1', mtu: 1400, table: 0, scope: 0, priority: 0 }],
        dns: { nameservers: ['10.10.0.53'], domain: 'example', search: ['a.example'], options: ['ndots:2'] },
      }),
    );
    expect(conf.cniVersion).toBe('1.0.0');
    expect(resultIPs(conf.addresses)).toEqual([{ address: '10.10.0.5/24', gateway: '10.10.0.1' }, { address: 'fd00::5/64' }]);
    // canonical text, host bits of dst kept, unknown keys and zero mtu/advmss/priority dropped, table and scope kept
    expect(conf.routes).toEqual([{ dst: '0.0.0.0/0' }, { dst: '10.2.3.4/8', gw: '10.10.0.254' }, { dst: 'fd00:1::/64', gw: 'fd00::1', mtu: 1400, table: 0, scope: 0 }]);
    expect(conf.dns).toEqual({ nameservers: ['10.10.0.53'], domain: 'example', search: ['a.example'], options: ['ndots:2'] });
  });

  it('accepts no addresses at all, empty strings and JSON nulls where Go does', () => {
    expect(parseConfig(cmd({})).addresses).toEqual([]);
    expect(parseConfig(cmd({ addresses: null, routes: null, dns: null }))).toEqual({ cniVersion: '1.0.0', addresses: [], routes: [], dns: undefined });
    expect(addressesOf(cmd({ addresses: [{ address: '10.1.1.1/24', gateway: '' }] }))).toEqual([{ address: '10.1.1.1/24' }]);
    expect(parseConfig(cmd({ routes: [{ dst: '0.0.0.0/0', gw: '' }], dns: { nameservers: [], domain: '' } }))).toMatchObject({ routes: [{ dst: '0.0.0.0/0' }], dns: undefined });
  });

  it('takes an IPv4-mapped IPv6 address as its IPv4 form, as Go does', () => {
    expect(addressesOf(cmd({ addresses: [{ address: '::ffff:10.1.1.1/120', gateway: '::ffff:10.1.1.254' }] }))).toEqual([{ address: '10.1.1.1/24', gateway: '10.1.1.254' }]);
  });

  it('appends CNI_ARGS IP= to ipam.addresses; GATEWAY= applies to the IP= addresses whose subnet holds it', () => {
    const c = cmd({ addresses: [{ address: '10.10.0.5/24', gateway: '10.10.0.1' }] }, {}, 'IP=10.1.1.1/24, 10.2.2.2/24,fd00::7/64;GATEWAY=10.2.2.1,10.1.1.254,10.10.0.2');
    expect(addressesOf(c)).toEqual([
      { address: '10.10.0.5/24', gateway: '10.10.0.1' },
      { address: '10.1.1.1/24', gateway: '10.1.1.254' },
      { address: '10.2.2.2/24', gateway: '10.2.2.1' },
      { address: 'fd00::7/64' },
    ]);
    expect(parseConfig(c).addresses.map((a) => a.field)).toEqual(['ipam.addresses[0]', 'CNI_ARGS IP', 'CNI_ARGS IP', 'CNI_ARGS IP']);
  });

  it('lets args.cni.ips replace ipam.addresses and CNI_ARGS, and runtimeConfig.ips replace them all', () => {
    const ipam = { addresses: [{ address: '10.10.0.5/24', gateway: '10.10.0.1' }] };
    const args = { args: { cni: { ips: ['10.3.3.3/24', 'fd00::3/64'] } } };
    const runtime = { runtimeConfig: { ips: ['10.4.4.4/16'] } };
    expect(addressesOf(cmd(ipam, args, 'IP=10.1.1.1/24'))).toEqual([{ address: '10.3.3.3/24' }, { address: 'fd00::3/64' }]);
    expect(addressesOf(cmd(ipam, { ...args, ...runtime }, 'IP=10.1.1.1/24'))).toEqual([{ address: '10.4.4.4/16' }]);
    expect(parseConfig(cmd(ipam, runtime)).addresses.map((a) => a.field)).toEqual(['runtimeConfig.ips[0]']);
    // an empty list replaces nothing
    expect(addressesOf(cmd(ipam, { runtimeConfig: { ips: [] }, args: { cni: { ips: [] } } }))).toEqual([{ address: '10.10.0.5/24', gateway: '10.10.0.1' }]);
  });

  it('reads ipam.addresses only when they are used, as the reference does', () => {
    const bad = { addresses: [{ address: 'bogus', gateway: 'also bogus' }] };
    expect(addressesOf(cmd(bad, { runtimeConfig: { ips: ['10.4.4.4/24'] } }))).toEqual([{ address: '10.4.4.4/24' }]);
    expect(addressesOf(cmd(bad, { args: { cni: { ips: ['10.3.3.3/24'] } } }))).toEqual([{ address: '10.3.3.3/24' }]);
  });

  it('keeps the address as given: host bits and a /32 are no error', () => {
    expect(parseConfig(cmd({ addresses: [{ address: '10.1.1.0/24' }, { address: '192.0.2.9/32', gateway: '192.0.2.1' }] })).addresses.map((a) => formatPrefix(a.prefix))).toEqual([
      '10.1.1.0/24',
      '192.0.2.9/32',
    ]);
  });

  it('accepts unknown CNI_ARGS keys only with IgnoreUnknown, as the reference does', () => {
    expect(failure(cmd({}, {}, 'K8S_POD_NAME=x'))).toMatchObject({ code: 4, message: expect.stringContaining('unknown CNI_ARGS key(s) "K8S_POD_NAME"') });
    expect(addressesOf(cmd({}, {}, 'IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.1.1.1/24'))).toEqual([{ address: '10.1.1.1/24' }]);
  });

  describe('every error is a CNI error naming the field and quoting the value', () => {
    const CIDR = 'expected an address with a prefix length, like "10.1.0.5/24"';
    const cases: Array<[string, CmdArgs, number, string]> = [
      ['no ipam', cmdArgs({ type: 'bridge' }), 7, 'invalid static config: field "ipam": is required (expected object)'],
      ['addresses not a list', cmd({ addresses: 'x' }), 7, 'field "ipam.addresses": expected array, got string "x"'],
      ['an address without prefix', cmd({ addresses: [{ address: '10.1.1.1' }] }), 7, `invalid field "ipam.addresses[0].address": ${CIDR}, got "10.1.1.1"`],
      [
        'a prefix too long',
        cmd({ addresses: [{ address: '10.1.1.1/24' }, { address: '10.1.1.1/33' }] }),
        7,
        `invalid field "ipam.addresses[1].address": ${CIDR}, got "10.1.1.1/33"`,
      ],
      ['an address missing', cmd({ addresses: [{ gateway: '10.1.1.1' }] }), 7, `invalid field "ipam.addresses[0].address": is required (${CIDR})`],
      ['an address not a string', cmd({ addresses: [{ address: 10 }] }), 7, 'field "ipam.addresses[0].address": expected string, got number 10'],
      ['a gateway that is no IP', cmd({ addresses: [{ address: '10.1.1.1/24', gateway: 'x' }] }), 7, 'invalid field "ipam.addresses[0].gateway": expected an IP address, got "x"'],
      [
        'a gateway of the other family',
        cmd({ addresses: [{ address: '10.1.1.1/24', gateway: 'fd00::1' }] }),
        7,
        'invalid field "ipam.addresses[0].gateway": "fd00::1" is IPv6 but the address "10.1.1.1/24" is IPv4',
      ],
      [
        'an IPv4 gateway for an IPv6 address',
        cmd({ addresses: [{ address: 'fd00::5/64', gateway: '10.0.0.1' }] }),
        7,
        'invalid field "ipam.addresses[0].gateway": "10.0.0.1" is IPv4 but the address "fd00::5/64" is IPv6',
      ],
      ['runtimeConfig.ips without prefix', cmd({}, { runtimeConfig: { ips: ['10.4.4.4/24', '10.4.4.5'] } }), 7, `invalid field "runtimeConfig.ips[1]": ${CIDR}, got "10.4.4.5"`],
      ['runtimeConfig.ips not strings', cmd({}, { runtimeConfig: { ips: [5] } }), 7, 'field "runtimeConfig.ips[0]": expected string, got number 5'],
      // checked even when runtimeConfig.ips replaces it, as in the reference
      [
        'args.cni.ips without prefix',
        cmd({}, { args: { cni: { ips: ['10.3.3.3'] } }, runtimeConfig: { ips: ['10.4.4.4/24'] } }),
        7,
        `invalid field "args.cni.ips[0]": ${CIDR}, got "10.3.3.3"`,
      ],
      ['CNI_ARGS IP without prefix', cmd({}, {}, 'IP=10.1.1.1'), 4, `invalid CNI_ARGS IP: ${CIDR}, got "10.1.1.1"`],
      ['CNI_ARGS IP with an empty entry', cmd({}, {}, 'IP=10.1.1.1/24,'), 4, `invalid CNI_ARGS IP: ${CIDR}, got ""`],
      ['CNI_ARGS GATEWAY not an IP', cmd({}, {}, 'IP=10.1.1.1/24;GATEWAY=bogus'), 4, 'invalid CNI_ARGS GATEWAY: expected IP addresses, got "bogus"'],
      ['a route dst that is no CIDR', cmd({ routes: [{ dst: 'x' }] }), 7, `invalid field "ipam.routes[0].dst": ${CIDR}, got "x"`],
      ['a route without dst', cmd({ routes: [{ gw: '10.1.1.1' }] }), 7, 'field "ipam.routes[0].dst": is required (expected string)'],
      ['a route gw that is no IP', cmd({ routes: [{ dst: '0.0.0.0/0', gw: '10.1.1' }] }), 7, 'invalid field "ipam.routes[0].gw": expected an IP address, got "10.1.1"'],
      ['a route gw of the other family', cmd({ routes: [{ dst: '::/0', gw: '10.1.1.1' }] }), 7, 'invalid field "ipam.routes[0].gw": "10.1.1.1" is IPv4 but dst "::/0" is IPv6'],
      ['a negative route mtu', cmd({ routes: [{ dst: '0.0.0.0/0', mtu: -1 }] }), 7, 'field "ipam.routes[0].mtu": must be at least 0, got number -1'],
      ['a route scope over 255', cmd({ routes: [{ dst: '0.0.0.0/0', scope: 256 }] }), 7, 'field "ipam.routes[0].scope": must be at most 255, got number 256'],
      ['dns nameservers not a list', cmd({ dns: { nameservers: '8.8.8.8' } }), 7, 'field "ipam.dns.nameservers": expected array, got string "8.8.8.8"'],
    ];
    it.each(cases)('%s', (_label, c, code, message) => {
      const f = failure(c);
      expect(f?.code, f?.message).toBe(code);
      expect(f?.message).toContain(message);
    });
  });

  it('CNI_ARGS GATEWAY for no IP= subnet is ignored, as in the reference (ipam.addresses keep theirs)', () => {
    const c = cmd({ addresses: [{ address: '10.10.0.5/24' }] }, {}, 'IP=10.1.1.1/24;GATEWAY=10.10.0.1');
    expect(addressesOf(c)).toEqual([{ address: '10.10.0.5/24' }, { address: '10.1.1.1/24' }]);
    expect(parseConfig(c).addresses.every((a) => a.gateway === undefined || formatIP(a.gateway) !== '10.10.0.1')).toBe(true);
  });
});
