import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execGc, execPlugin, type PluginInvocation } from '../helpers/exec-plugin';
import { addLanNic, useLanFixture, type LanNic } from '../helpers/lan';
import type { TestNetns } from '../helpers/netns';
import { pings } from '../helpers/topology';
import { reservedAddresses } from '../helpers/host-local-store';

let dir: string;
let host: TestNetns;
let lan: TestNetns;
const pool = useLanFixture('cnit-mv-', (f) => ({ dir, host, lan } = f));

const nic = (): LanNic => addLanNic(host, lan, 'phys0', 'lan0', { v4: '10.80.0', v6: 'fd80:0:0:1' });

function conf(extra: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.0.0',
    name: 'mvnet',
    type: 'macvlan',
    master: 'phys0',
    ipam: {
      type: 'host-local',
      dataDir: join(dir, 'ipam'),
      ranges: [[{ subnet: '10.80.0.0/24', rangeStart: '10.80.0.10', gateway: '10.80.0.1' }], [{ subnet: 'fd80:0:0:1::/64', gateway: 'fd80:0:0:1::1' }]],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '10.90.0.0/16', gw: '10.80.0.3' }],
    },
    dns: { nameservers: ['10.80.0.1'] },
    ...extra,
  };
}

const run = (command: string, ctr: TestNetns | string, stdin: object = conf(), inv: PluginInvocation = {}) =>
  execPlugin('macvlan', {
    command,
    containerId: typeof ctr === 'string' ? 'gone' : `ctr-${ctr.name}`,
    netns: typeof ctr === 'string' ? ctr : ctr.path,
    ifname: 'eth0',
    stdin,
    inNetns: host.name,
    env: { CNI_TS_STATE_DIR: join(dir, 'state') },
    ...inv,
  });

type IpLink = { ifname: string; address: string; mtu: number; flags: string[]; link?: string; linkinfo?: { info_kind: string; info_data?: { mode?: string } } };
type IpAddr = { addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }> };
const links = (ns: TestNetns) => ns.ipJson<IpLink[]>('-d', 'link', 'show');
/** What DEL must leave as it was on the host (carrier comes and goes on its own). */
const hostState = () => links(host).map(({ ifname, flags, mtu, address }) => ({ ifname, mtu, address, flags: flags.filter((f) => f !== 'NO-CARRIER') }));
const linkNames = (ns: TestNetns) => links(ns).map((l) => l.ifname);
const eth0 = (ns: TestNetns) => ns.ipJson<IpLink[]>('-d', 'link', 'show', 'eth0')[0];
const globalAddresses = (ns: TestNetns) =>
  ns
    .ipJson<IpAddr[]>('addr', 'show', 'eth0')[0]
    .addr_info.filter((a) => a.scope === 'global')
    .map((a) => `${a.local}/${a.prefixlen}`);
const reservations = () => reservedAddresses(join(dir, 'ipam'), 'mvnet');
const addressOf = (r: { json: { ips: Array<{ address: string }> } }, family: 4 | 6) =>
  r.json.ips.map((i) => i.address.split('/')[0]).find((a) => (family === 6) === a.includes(':'))!;

describe('macvlan ADD, CHECK and DEL', () => {
  it('puts two containers on the LAN: each other and the LAN peer reachable over IPv4 and IPv6; result as the reference shapes it; CHECK passes', async () => {
    const lanNic = nic();
    const c1 = pool.make('c');
    const c2 = pool.make('c');
    const r1 = await run('ADD', c1);
    const r2 = await run('ADD', c2);
    expect(r1.code, r1.stdout + r1.stderr).toBe(0);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);

    expect(r1.json).toEqual({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'eth0', mac: eth0(c1).address, sandbox: c1.path }],
      ips: [
        { address: '10.80.0.10/24', gateway: '10.80.0.1', interface: 0 },
        { address: 'fd80:0:0:1::2/64', gateway: 'fd80:0:0:1::1', interface: 0 },
      ],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '10.90.0.0/16', gw: '10.80.0.3' }],
      dns: { nameservers: ['10.80.0.1'] },
    });
    const link = eth0(c1);
    expect(link.linkinfo).toMatchObject({ info_kind: 'macvlan', info_data: { mode: 'bridge' } });
    expect(link.flags).toContain('UP');
    expect(globalAddresses(c1)).toEqual(['10.80.0.10/24', 'fd80:0:0:1::2/64']);
    const routes = c1.ipJson<Array<{ dst: string; gateway?: string }>>('route', 'show');
    expect(routes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.80.0.1' }));
    expect(routes).toContainEqual(expect.objectContaining({ dst: '10.90.0.0/16', gateway: '10.80.0.3' }));
    expect(c1.exec('sysctl', ['-n', 'net.ipv4.conf.eth0.arp_notify', 'net.ipv6.conf.eth0.ndisc_notify']).split('\n').slice(0, 2)).toEqual(['1', '1']);

    expect(pings(c1, lanNic.peer4)).toBe(true);
    expect(pings(c1, lanNic.peer6)).toBe(true);
    expect(pings(c1, addressOf(r2, 4))).toBe(true);
    expect(pings(c2, addressOf(r1, 6))).toBe(true);
    expect(pings(lan, addressOf(r2, 4))).toBe(true);

    const check = await run('CHECK', c1, { ...conf(), prevResult: r1.json });
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });

  it('DEL leaves nothing (link, reservation, host state) and is idempotent; the master is untouched', async () => {
    nic();
    const hostBefore = hostState();
    const c = pool.make('c');
    expect((await run('ADD', c)).code).toBe(0);
    expect(reservations().sort()).toEqual(['10.80.0.10', 'fd80:0:0:1::2']);
    const del = await run('DEL', c);
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(linkNames(c)).toEqual(['lo']);
    expect(reservations()).toEqual([]);
    expect(hostState()).toEqual(hostBefore);
    expect((await run('DEL', c)).code).toBe(0);
  });

  it('DEL after the namespace is gone releases the addresses and succeeds (the macvlan went with it)', async () => {
    nic();
    const c = pool.make('c');
    const add = await run('ADD', c);
    expect(add.code).toBe(0);
    const path = c.path;
    c.destroy();
    const del = await run('DEL', c, conf(), { netns: path, containerId: `ctr-${c.name}` });
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(reservations()).toEqual([]);
    expect((await run('DEL', c, conf(), { netns: '', containerId: `ctr-${c.name}` })).code).toBe(0);
    expect(linkNames(host).sort()).toEqual(['lo', 'phys0']);
  });

  it('without IPAM the interface is up with no address, and the result has no ips', async () => {
    nic();
    const c = pool.make('c');
    const r = await run('ADD', c, conf({ ipam: undefined, dns: undefined }));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toEqual({ cniVersion: '1.0.0', interfaces: [{ name: 'eth0', mac: eth0(c).address, sandbox: c.path }] });
    expect(eth0(c).flags).toContain('UP');
    expect(globalAddresses(c)).toEqual([]);
    expect((await run('CHECK', c, { ...conf({ ipam: undefined }), prevResult: r.json })).code).toBe(0);
    expect((await run('DEL', c, conf({ ipam: undefined }))).code).toBe(0);
    expect(linkNames(c)).toEqual(['lo']);
  });

  it("an IPv4-only ADD does not wait for the link-local address's IPv6 DAD (as the reference, which settles only configured IPv6 addresses)", async () => {
    nic();
    const c = pool.make('c');
    const ipam = { ...conf().ipam, ranges: [[{ subnet: '10.80.0.0/24', rangeStart: '10.80.0.10', gateway: '10.80.0.1' }]] };
    const r = await run('ADD', c, conf({ ipam }));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // DAD of fe80::/64 takes a second or more: right after ADD the address is still tentative
    const linkLocal = c
      .ipJson<Array<{ addr_info: Array<{ family: string; scope: string; tentative?: boolean }> }>>('addr', 'show', 'eth0')[0]
      .addr_info.filter((a) => a.family === 'inet6' && a.scope === 'link');
    expect(linkLocal).toEqual([expect.objectContaining({ tentative: true })]);
  });

  it('takes the interface of the default route as master when none is configured', async () => {
    const lanNic = nic();
    host.exec('ip', ['route', 'add', 'default', 'via', lanNic.peer4, 'dev', 'phys0', 'onlink']);
    const c = pool.make('c');
    const r = await run('ADD', c, conf({ master: undefined }));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(eth0(c).linkinfo?.info_kind).toBe('macvlan');
    expect(pings(c, lanNic.peer4)).toBe(true);
    expect((await run('CHECK', c, { ...conf({ master: undefined }), prevResult: r.json })).code).toBe(0);
  });

  it('private mode: containers do not reach each other, the LAN they do; CHECK tells a mode that differs', async () => {
    const lanNic = nic();
    const c1 = pool.make('c');
    const c2 = pool.make('c');
    const r1 = await run('ADD', c1, conf({ mode: 'private' }));
    const r2 = await run('ADD', c2, conf({ mode: 'private' }));
    expect(eth0(c1).linkinfo?.info_data?.mode).toBe('private');
    expect(pings(c1, lanNic.peer4)).toBe(true);
    expect(pings(c1, addressOf(r2, 4))).toBe(false);
    const check = await run('CHECK', c1, { ...conf({ mode: 'vepa' }), prevResult: r1.json });
    expect(check.json).toMatchObject({ code: 140, msg: expect.stringContaining('mode private, not vepa') });
    expect((await run('CHECK', c1, { ...conf({ mode: 'private' }), prevResult: r1.json })).code).toBe(0);
  });

  it('CHECK names what is missing: an address, a route, a MAC that changed, the interface', async () => {
    nic();
    const c = pool.make('c');
    const r = await run('ADD', c);
    const check = () => run('CHECK', c, { ...conf(), prevResult: r.json });
    c.exec('ip', ['route', 'del', '10.90.0.0/16']);
    expect((await check()).json).toMatchObject({ code: 140, msg: expect.stringContaining('route to 10.90.0.0/16 via 10.80.0.3') });
    c.exec('ip', ['route', 'add', '10.90.0.0/16', 'via', '10.80.0.3']);
    expect((await check()).code).toBe(0);
    c.exec('ip', ['link', 'set', 'eth0', 'address', '02:66:66:66:66:66']);
    expect((await check()).json).toMatchObject({ code: 140, msg: expect.stringContaining('MAC') });
    c.exec('ip', ['link', 'del', 'eth0']);
    expect((await check()).json).toMatchObject({ code: 140, msg: expect.stringContaining('"eth0" is missing') });
  });

  it('uses the MTU, and the MAC from the config, CNI_ARGS and the mac capability (which wins)', async () => {
    nic();
    const c1 = pool.make('c');
    const r1 = await run('ADD', c1, conf({ mtu: 1400, mac: '02:00:00:00:00:01' }), { cniArgs: 'IgnoreUnknown=1;MAC=02:00:00:00:00:02' });
    expect(r1.code, r1.stdout + r1.stderr).toBe(0);
    expect(eth0(c1)).toMatchObject({ mtu: 1400, address: '02:00:00:00:00:02' });
    expect(r1.json.interfaces[0].mac).toBe('02:00:00:00:00:02');
    const c2 = pool.make('c');
    const r2 = await run('ADD', c2, conf({ runtimeConfig: { mac: '02:00:00:00:00:03' } }), { cniArgs: 'IgnoreUnknown=1;MAC=02:00:00:00:00:02' });
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    expect(eth0(c2).address).toBe('02:00:00:00:00:03');
    expect(r2.json.interfaces[0].mac).toBe('02:00:00:00:00:03');
  });

  it('linkInContainer: the master is in the container namespace, and the macvlan is made there', async () => {
    const c = pool.make('c');
    const lanNic = addLanNic(c, lan, 'ens5', 'lan5', { v4: '10.80.0', v6: 'fd80:0:0:1' });
    const cfg = conf({ master: 'ens5', linkInContainer: true });
    const r = await run('ADD', c, cfg);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const link = eth0(c);
    expect(link.linkinfo?.info_kind).toBe('macvlan');
    expect(link.link).toBe('ens5');
    expect(pings(c, lanNic.peer4)).toBe(true);
    expect((await run('CHECK', c, { ...cfg, prevResult: r.json })).code).toBe(0);
    // the same master name looked for on the host is not there
    expect((await run('CHECK', c, { ...conf({ master: 'ens5' }), prevResult: r.json })).json).toMatchObject({ code: 140, msg: expect.stringContaining('ens5') });
    expect((await run('DEL', c, cfg)).code).toBe(0);
    expect(linkNames(c)).toEqual(['lo', 'ens5']);
  });
});

describe('a failed macvlan ADD leaves nothing', () => {
  it('refuses before creating anything: a master that is missing, an MTU above the master, no default route, a taken interface name', async () => {
    nic();
    const c = pool.make('c');
    const cases: Array<[object, number, string]> = [
      [conf({ master: 'nope0' }), 7, 'invalid field "master": no interface "nope0"'],
      [conf({ mtu: 9000 }), 7, 'invalid field "mtu": 9000 is above the MTU of master "phys0" (1500)'],
      [conf({ master: undefined }), 7, 'no default route'],
      [conf({ ipam: { type: 'no-such-ipam' } }), 7, 'no-such-ipam'],
    ];
    for (const [cfg, code, msg] of cases) {
      const r = await run('ADD', c, cfg);
      expect(r.json, JSON.stringify(cfg)).toMatchObject({ code, msg: expect.stringContaining(msg) });
    }
    c.exec('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    expect((await run('ADD', c)).json).toMatchObject({ code: 110, msg: expect.stringContaining('already exists') });
    expect(linkNames(c).sort()).toEqual(['eth0', 'eth1', 'lo']);
    expect(reservations()).toEqual([]);
  });

  it('a failure after the macvlan and the reservation exist (a route IPAM asks for cannot be added) takes both away', async () => {
    nic();
    const c = pool.make('c');
    const bad = conf();
    (bad.ipam.routes as object[]).push({ dst: '10.91.0.0/16', gw: '192.0.2.1' });
    const r = await run('ADD', c, bad);
    expect(r.code).not.toBe(0);
    expect(r.json.msg).toContain('10.91.0.0/16');
    expect(linkNames(c)).toEqual(['lo']);
    expect(reservations()).toEqual([]);
    expect(linkNames(host).sort()).toEqual(['lo', 'phys0']);
  });
});

describe('macvlan STATUS and GC (CNI 1.1)', () => {
  const v11 = (extra: Record<string, unknown> = {}) => ({ ...conf(extra), cniVersion: '1.1.0' });
  const env = () => ({ CNI_TS_STATE_DIR: join(dir, 'state') });

  it('STATUS is ready with the master there and answers 50 without it', async () => {
    const status = (cfg: object) => execPlugin('macvlan', { command: 'STATUS', inNetns: host.name, env: env(), stdin: cfg });
    expect((await status(v11())).json).toMatchObject({ code: 50, msg: expect.stringContaining('phys0') });
    nic();
    const ok = await status(v11());
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect((await status(v11({ master: undefined }))).json).toMatchObject({ code: 50, msg: expect.stringContaining('no default route') });
  });

  it("GC releases the addresses of attachments not in the valid list (through IPAM's GC)", async () => {
    nic();
    const keep = pool.make('c');
    const drop = pool.make('c');
    expect((await run('ADD', keep)).code).toBe(0);
    expect((await run('ADD', drop)).code).toBe(0);
    expect(reservations()).toHaveLength(4);
    const gc = await execGc('macvlan', conf(), [`ctr-${keep.name}`], { inNetns: host.name, env: env() });
    expect(gc.code, gc.stdout + gc.stderr).toBe(0);
    expect(reservations().sort()).toEqual(['10.80.0.10', 'fd80:0:0:1::2']);
  });
});
