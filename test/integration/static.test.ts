import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useDirFixture } from '../helpers/dir-fixture';
import { execPlugin, type PluginInvocation, type PluginOutcome } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { pings } from '../helpers/topology';

/** The Go plugin of Debian's containernetworking-plugins (1.1.x: cniVersion up to 1.0.0, no 1.1 route fields). */
const REFERENCE = '/usr/lib/cni/static';

const IPAM = {
  type: 'static',
  addresses: [{ address: '10.10.0.5/24', gateway: '10.10.0.1' }, { address: 'fd00:0:0::5/64', gateway: 'fd00::1' }, { address: '192.0.2.9/32' }],
  routes: [{ dst: '0.0.0.0/0' }, { dst: '10.2.3.4/8', gw: '10.10.0.254' }, { dst: '::/0', gw: 'fd00::1' }],
  dns: { nameservers: ['10.10.0.53'], domain: 'example', search: ['a.example', 'b.example'], options: ['ndots:2'] },
};
const conf = (cniVersion: string, ipam: Record<string, unknown> = IPAM, extra: Record<string, unknown> = {}) => ({ cniVersion, name: 'stnet', type: 'bridge', ipam, ...extra });

/** The reference prints "dns": {} when there is none; we leave it out. Nothing else is normalised. */
function wire(json: Record<string, unknown>): Record<string, unknown> {
  const { dns, ...rest } = json;
  return dns && Object.keys(dns).length ? { ...rest, dns } : rest;
}

describe('static against the reference plugin, same inputs', () => {
  let ns: TestNetns;
  useDirFixture('cnit-static-', 'st', (_dir, made) => (ns = made));

  const invocation = (command: string, stdin: object | string, inv: PluginInvocation = {}): PluginInvocation => ({
    command,
    containerId: 'ctr1',
    netns: ns.path,
    ifname: 'eth0',
    stdin,
    ...inv,
  });
  const both = (command: string, stdin: object | string, inv: PluginInvocation = {}): Promise<[PluginOutcome, PluginOutcome]> =>
    Promise.all([execPlugin('static', invocation(command, stdin, inv)), execPlugin(REFERENCE, invocation(command, stdin, inv))]);

  describe('ADD prints the same result', () => {
    it.each([
      ['addresses, routes and dns (1.0.0)', conf('1.0.0'), ''],
      ['addresses, routes and dns (0.4.0: ips carry their version)', conf('0.4.0'), ''],
      ['addresses, routes and dns (0.3.1)', conf('0.3.1'), ''],
      [
        'runtimeConfig.ips replacing ipam.addresses, args.cni.ips and CNI_ARGS',
        conf('1.0.0', IPAM, { runtimeConfig: { ips: ['10.4.4.4/16', 'fd04::4/64'] }, args: { cni: { ips: ['10.3.3.3/24'] } } }),
        'IP=10.1.1.1/24',
      ],
      ['args.cni.ips replacing ipam.addresses and CNI_ARGS', conf('1.0.0', IPAM, { args: { cni: { ips: ['10.3.3.3/24', 'fd03::3/64'] } } }), 'IP=10.1.1.1/24'],
      [
        'CNI_ARGS IP= appended to ipam.addresses, GATEWAY= for the IP= subnets only',
        conf('1.0.0'),
        'IgnoreUnknown=1;K8S_POD_NAME=p;IP=10.1.1.1/24, 10.2.2.2/24,fd01::1/64;GATEWAY=10.2.2.1,fd01::ff,10.10.0.2',
      ],
      ['CNI_ARGS IP= alone (0.4.0)', conf('0.4.0', { type: 'static' }), 'IP=10.1.1.1/24'],
      [
        'IPv4-mapped and non-canonical IPv6 text, host bits in a route dst',
        conf('1.0.0', {
          type: 'static',
          addresses: [{ address: '::ffff:10.1.1.1/120', gateway: '::ffff:10.1.1.254' }, { address: 'FD00:0000::0001/64' }],
          routes: [{ dst: '10.2.3.4/8' }, { dst: 'FD00:1:0::/48', gw: 'fd00::ff' }],
        }),
        '',
      ],
      ['no addresses at all', conf('1.0.0', { type: 'static' }), ''],
      ['an empty gateway and JSON nulls', conf('1.0.0', { type: 'static', addresses: [{ address: '10.1.1.1/24', gateway: '' }], routes: null, dns: null }), ''],
      ['bad ipam.addresses that runtimeConfig.ips replaces', conf('1.0.0', { type: 'static', addresses: [{ address: 'bogus' }] }, { runtimeConfig: { ips: ['10.4.4.4/24'] } }), ''],
    ])('%s', async (_label, stdin, cniArgs) => {
      const [ours, ref] = await both('ADD', stdin, { cniArgs });
      expect(ref.code, ref.stdout).toBe(0);
      expect(ours.code, ours.stdout + ours.stderr).toBe(0);
      expect(ours.json).toEqual(wire(ref.json));
      expect(ours.json.ips?.some((ip: object) => 'interface' in ip) ?? false).toBe(false);
    });

    it('1.1.0 gives the 1.0.0 result in 1.1.0 (the reference installed here stops at 1.0.0) and keeps the 1.1 route fields', async () => {
      const [, ref] = await both('ADD', conf('1.0.0'));
      const ours = await execPlugin('static', invocation('ADD', conf('1.1.0')));
      expect(ours.code, ours.stdout).toBe(0);
      expect(ours.json).toEqual({ ...wire(ref.json), cniVersion: '1.1.0' });
      const routes = [{ dst: '0.0.0.0/0', gw: '10.10.0.1', mtu: 1400, advmss: 1360, priority: 10, table: 100, scope: 0 }];
      const withFields = await execPlugin('static', invocation('ADD', conf('1.1.0', { ...IPAM, routes })));
      expect(withFields.json.routes).toEqual(routes);
    });
  });

  describe('errors: the same failures, with CNI codes where the reference says 999', () => {
    const CIDR = 'expected an address with a prefix length, like "10.1.0.5/24"';
    it.each([
      ['no ipam', { cniVersion: '1.0.0', name: 'stnet' }, '', 7, 'field "ipam": is required'],
      [
        'an address without prefix',
        conf('1.0.0', { type: 'static', addresses: [{ address: '10.1.1.1' }] }),
        '',
        7,
        `invalid field "ipam.addresses[0].address": ${CIDR}, got "10.1.1.1"`,
      ],
      [
        'a gateway that is no IP',
        conf('1.0.0', { type: 'static', addresses: [{ address: '10.1.1.1/24', gateway: 'x' }] }),
        '',
        7,
        'invalid field "ipam.addresses[0].gateway": expected an IP address, got "x"',
      ],
      ['addresses of the wrong type', conf('1.0.0', { type: 'static', addresses: 'x' }), '', 7, 'field "ipam.addresses": expected array, got string "x"'],
      ['runtimeConfig.ips without prefix', conf('1.0.0', IPAM, { runtimeConfig: { ips: ['10.4.4.4'] } }), '', 7, `invalid field "runtimeConfig.ips[0]": ${CIDR}, got "10.4.4.4"`],
      [
        'args.cni.ips without prefix, though runtimeConfig.ips wins',
        conf('1.0.0', IPAM, { runtimeConfig: { ips: ['10.4.4.4/24'] }, args: { cni: { ips: ['10.3.3.3'] } } }),
        '',
        7,
        `invalid field "args.cni.ips[0]": ${CIDR}, got "10.3.3.3"`,
      ],
      ['a route dst that is no CIDR', conf('1.0.0', { type: 'static', routes: [{ dst: 'x' }] }), '', 7, `invalid field "ipam.routes[0].dst": ${CIDR}, got "x"`],
      ['CNI_ARGS IP without prefix', conf('1.0.0'), 'IP=10.1.1.1', 4, `invalid CNI_ARGS IP: ${CIDR}, got "10.1.1.1"`],
      ['CNI_ARGS IP with an empty entry', conf('1.0.0'), 'IP=10.1.1.1/24,', 4, `invalid CNI_ARGS IP: ${CIDR}, got ""`],
      ['CNI_ARGS GATEWAY not an IP', conf('1.0.0'), 'IP=10.1.1.1/24;GATEWAY=bogus', 4, 'invalid CNI_ARGS GATEWAY: expected IP addresses, got "bogus"'],
      ['an unknown CNI_ARGS key', conf('1.0.0'), 'K8S_POD_NAME=p', 4, 'unknown CNI_ARGS key(s) "K8S_POD_NAME"'],
    ])('%s', async (_label, stdin, cniArgs, code, message) => {
      const [ours, ref] = await both('ADD', stdin, { cniArgs });
      expect(ref.code).toBe(1);
      expect(ref.json.code).toBe(999);
      expect(ours.code).toBe(1);
      expect(ours.json).toMatchObject({ code, msg: expect.stringContaining(message) });
    });

    it.each([
      ['an unsupported cniVersion', 'ADD', conf('9.9.9'), {}, 1],
      ['CHECK before 0.4.0', 'CHECK', conf('0.3.1'), {}, 1],
      ['a missing CNI_IFNAME', 'ADD', conf('1.0.0'), { env: { CNI_IFNAME: undefined } }, 4],
      ['stdin that is not JSON', 'ADD', '{"cniVersion":"1.0.0",', {}, 6],
    ])('%s: the same code as the reference', async (_label, command, stdin, inv, code) => {
      const [ours, ref] = await both(command, stdin, inv);
      expect(ref.json.code).toBe(code);
      expect(ours.json.code, ours.stdout).toBe(code);
      expect(ours.code).toBe(1);
    });

    it('a gateway of the other family: the reference returns it, we refuse it (code 7)', async () => {
      const [ours, ref] = await both('ADD', conf('1.0.0', { type: 'static', addresses: [{ address: '10.1.1.1/24', gateway: 'fd00::1' }] }));
      expect(ref.json.ips).toEqual([{ address: '10.1.1.1/24', gateway: 'fd00::1' }]);
      expect(ours.json).toMatchObject({ code: 7, msg: 'invalid field "ipam.addresses[0].gateway": "fd00::1" is IPv6 but the address "10.1.1.1/24" is IPv4' });
    });
  });

  describe('DEL, CHECK, STATUS, GC and VERSION', () => {
    it.each([
      ['ipam of the wrong shape', { cniVersion: '1.0.0', name: 'stnet', ipam: 'junk' }, 'IP=junk'],
      ['bad runtimeConfig.ips', conf('1.0.0', IPAM, { runtimeConfig: { ips: ['nope'] } }), ''],
      ['a bad address', conf('1.0.0', { type: 'static', addresses: [{ address: 'bogus' }] }), 'K8S_POD_NAME=p'],
    ])('DEL succeeds, silently, on a config ADD refuses (%s), as the reference does', async (_label, stdin, cniArgs) => {
      expect((await execPlugin('static', invocation('ADD', stdin, { cniArgs }))).code).toBe(1);
      const [ours, ref] = await both('DEL', stdin, { cniArgs });
      expect(ref.code).toBe(0);
      expect(ours.code, ours.stdout).toBe(0);
      expect(ours.stdout).toBe('');
    });

    it('DEL succeeds when the namespace is already gone', async () => {
      const path = ns.path;
      ns.destroy();
      const r = await execPlugin('static', invocation('DEL', conf('1.0.0'), { netns: path }));
      expect(r.code, r.stdout).toBe(0);
    });

    it('CHECK passes for what ADD returned, and fails like the reference when a gateway changed', async () => {
      for (const version of ['0.4.0', '1.0.0']) {
        const added = await execPlugin('static', invocation('ADD', conf(version)));
        const [ours, ref] = await both('CHECK', { ...conf(version), prevResult: added.json });
        expect(ref.code, ref.stdout).toBe(0);
        expect(ours.code, ours.stdout).toBe(0);
      }
      const prevResult = {
        cniVersion: '1.0.0',
        ips: [{ address: '10.10.0.5/24', gateway: '10.10.0.99' }, { address: 'fd00::5/64', gateway: 'fd00::1' }, { address: '192.0.2.9/32' }],
      };
      const [ours, ref] = await both('CHECK', { ...conf('1.0.0'), prevResult });
      expect(ref.json).toMatchObject({ code: 999, msg: expect.stringContaining('10.10.0.5') });
      expect(ours.json).toMatchObject({ code: 140, msg: expect.stringContaining('"10.10.0.5/24" (ipam.addresses[0]) of interface "eth0" has gateway "10.10.0.99"') });
    });

    it('CHECK fails when an address is missing from prevResult (the reference passes)', async () => {
      const prevResult = { cniVersion: '1.0.0', ips: [{ address: '10.10.0.5/24', gateway: '10.10.0.1' }] };
      const [ours, ref] = await both('CHECK', { ...conf('1.0.0'), prevResult });
      expect(ref.code).toBe(0);
      expect(ours.json).toMatchObject({ code: 140, msg: 'static: address "fd00::5/64" (ipam.addresses[1]) of interface "eth0" is not in prevResult.ips' });
    });

    it('STATUS and GC succeed (1.1.0)', async () => {
      for (const command of ['STATUS', 'GC']) {
        const r = await execPlugin('static', { command, stdin: { ...conf('1.1.0'), 'cni.dev/valid-attachments': [] } });
        expect(r.code, `${command}: ${r.stdout}`).toBe(0);
        expect(r.stdout).toBe('');
      }
    });

    it('VERSION lists the same versions as our other plugins', async () => {
      const [ours, hostLocal] = await Promise.all(['static', 'host-local'].map((p) => execPlugin(p, { command: 'VERSION', stdin: { cniVersion: '1.0.0' } })));
      expect(ours.json).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
      expect(ours.json).toEqual(hostLocal.json);
    });
  });
});

describe('bridge with static IPAM, in a throw-away node', () => {
  let dir: string;
  let host: TestNetns;
  const pool = useNodeFixture('cnit-static-br-', (node) => ({ dir, host } = node));

  const bridgeConf = (ipam: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    cniVersion: '1.0.0',
    name: 'stbr',
    type: 'bridge',
    bridge: 'cnit-st0',
    isGateway: true,
    ipam: { type: 'static', ...ipam },
    ...extra,
  });
  const STATIC = {
    addresses: [
      { address: '10.45.0.10/24', gateway: '10.45.0.1' },
      { address: 'fd45::10/64', gateway: 'fd45::1' },
    ],
    routes: [{ dst: '0.0.0.0/0' }, { dst: '192.0.2.0/24', gw: '10.45.0.254' }, { dst: '::/0' }],
  };
  const run = (command: string, ctr: TestNetns, stdin: object) =>
    execPlugin('bridge', {
      command,
      containerId: `ctr-${ctr.name}`,
      netns: ctr.path,
      ifname: 'eth0',
      stdin,
      inNetns: host.name,
      env: { CNI_TS_STATE_DIR: join(dir, 'state') },
    });

  type IpAddr = { ifname: string; addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }> };
  type IpRoute = { dst: string; gateway?: string; dev: string };
  const globalAddresses = (ctr: TestNetns) =>
    ctr
      .ipJson<IpAddr[]>('addr', 'show', 'dev', 'eth0')[0]
      .addr_info.filter((a) => a.scope === 'global')
      .map((a) => `${a.local}/${a.prefixlen}`);
  const routesVia = (ctr: TestNetns, family: '-4' | '-6') =>
    ctr
      .ipJson<IpRoute[]>(family, 'route', 'show')
      .filter((r) => r.gateway)
      .map((r) => `${r.dst} via ${r.gateway}`);

  it('gives the container exactly the static addresses and routes; it reaches its gateways; CHECK and DEL work', async () => {
    const ctr = pool.make('c');
    const r = await run('ADD', ctr, bridgeConf(STATIC));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.ips).toEqual([
      { address: '10.45.0.10/24', gateway: '10.45.0.1', interface: 2 },
      { address: 'fd45::10/64', gateway: 'fd45::1', interface: 2 },
    ]);
    expect(globalAddresses(ctr).sort()).toEqual(['10.45.0.10/24', 'fd45::10/64']);
    expect(routesVia(ctr, '-4').sort()).toEqual(['192.0.2.0/24 via 10.45.0.254', 'default via 10.45.0.1']);
    expect(routesVia(ctr, '-6')).toEqual(['default via fd45::1']);
    expect(pings(ctr, '10.45.0.1')).toBe(true);
    expect(pings(ctr, 'fd45::1')).toBe(true);

    const check = await run('CHECK', ctr, { ...bridgeConf(STATIC), prevResult: r.json });
    expect(check.code, check.stdout).toBe(0);
    const moved = { ...STATIC, addresses: [{ address: '10.45.0.11/24', gateway: '10.45.0.1' }] };
    const stale = await run('CHECK', ctr, { ...bridgeConf(moved), prevResult: r.json });
    expect(stale.json).toMatchObject({ code: 140, msg: expect.stringContaining('"10.45.0.11/24" (ipam.addresses[0])') });

    const del = await run('DEL', ctr, bridgeConf(STATIC));
    expect(del.code, del.stdout).toBe(0);
    expect(host.ipJson<unknown[]>('link', 'show', 'type', 'veth').length).toBe(1); // only the uplink
  });

  it('takes each container its own address from runtimeConfig.ips (capability ips); the containers reach each other', async () => {
    const [a, b] = [pool.make('c'), pool.make('c')];
    const conf = (ip: string) => bridgeConf({ addresses: [{ address: '10.45.0.200/24' }] }, { capabilities: { ips: true }, runtimeConfig: { ips: [ip] } });
    const ra = await run('ADD', a, conf('10.45.0.21/24'));
    const rb = await run('ADD', b, conf('10.45.0.22/24'));
    expect(ra.code, ra.stdout + ra.stderr).toBe(0);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(globalAddresses(a)).toEqual(['10.45.0.21/24']);
    expect(globalAddresses(b)).toEqual(['10.45.0.22/24']);
    // no gateway from static: bridge takes the subnet's first address, as the reference does
    expect(ra.json.ips).toEqual([{ address: '10.45.0.21/24', gateway: '10.45.0.1', interface: 2 }]);
    expect(pings(a, '10.45.0.22')).toBe(true);
    expect(pings(b, '10.45.0.1')).toBe(true);
  });

  it("a config static refuses fails the bridge ADD with static's error, and leaves nothing behind", async () => {
    const ctr = pool.make('c');
    const r = await run('ADD', ctr, bridgeConf({ addresses: [{ address: '10.45.0.10' }] }));
    expect(r.json).toMatchObject({ code: 7, msg: expect.stringContaining('"ipam.addresses[0].address"') });
    expect(host.ipJson<unknown[]>('link', 'show', 'type', 'veth').length).toBe(1);
    expect(host.ipJson<unknown[]>('link', 'show', 'type', 'bridge')).toEqual([]);
  });
});
