import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execGc, execPlugin, type PluginInvocation } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { masqElements as masqElementsIn } from '../helpers/nft';
import { useNodeFixture } from '../helpers/node-fixture';
import { UPLINK, pings } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';
import { reservedAddresses } from '../helpers/host-local-store';

let dir: string;
let host: TestNetns;
let outside: TestNetns;
const pool = useNodeFixture('cnit-ptp-', (node) => ({ dir, host, outside } = node));

function conf(extra: Record<string, unknown> = {}, ipam: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.0.0',
    name: 'ptpnet',
    type: 'ptp',
    ipMasq: true,
    ipam: {
      type: 'host-local',
      dataDir: join(dir, 'ipam'),
      ranges: [[{ subnet: '10.47.0.0/24' }], [{ subnet: 'fd47::/64' }]],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
      ...ipam,
    },
    ...extra,
  };
}

const env = () => ({ CNI_TS_STATE_DIR: join(dir, 'state') });
const run = (command: string, ctr: TestNetns | string, stdin: object = conf(), inv: PluginInvocation = {}) =>
  execPlugin('ptp', {
    command,
    containerId: typeof ctr === 'string' ? `ctr-${ctr.split('/').pop()}` : `ctr-${ctr.name}`,
    netns: typeof ctr === 'string' ? ctr : ctr.path,
    ifname: 'eth0',
    stdin,
    inNetns: host.name,
    env: env(),
    ...inv,
  });

type IpLink = { ifname: string; mtu: number; address: string };
type IpAddr = { ifname: string; addr_info: Array<{ local: string; prefixlen: number; family: string; scope: string }> };
type IpRoute = { dst: string; gateway?: string; dev: string; scope?: string; prefsrc?: string };

const hostVeths = () => host.ipJson<IpLink[]>('link', 'show', 'type', 'veth').filter((l) => l.ifname !== 'uplink0');
const reservations = () => reservedAddresses(join(dir, 'ipam'), 'ptpnet');
const records = () => (existsSync(join(dir, 'state', 'ptp', 'attachments', 'ptpnet')) ? readdirSync(join(dir, 'state', 'ptp', 'attachments', 'ptpnet')) : []);
const hostRoutes = (family: '-4' | '-6') =>
  host
    .ipJson<IpRoute[]>(family, 'route', 'show')
    .filter((r) => r.dev !== 'uplink0' && r.dev !== 'lo' && !r.dst.startsWith('fe80'))
    .map((r) => `${r.dst} dev ${r.dev.startsWith('veth') ? 'veth*' : r.dev}${r.scope && r.scope !== 'global' ? ` scope ${r.scope}` : ''}`);
const masqElements = (family: 4 | 6) => masqElementsIn(host, family);
const addressOf = (r: { json: { ips: Array<{ address: string }> } }, family: 4 | 6) =>
  r.json.ips.map((i) => i.address.split('/')[0]).find((a) => (family === 6) === a.includes(':'))!;

describe('ptp ADD', () => {
  it('gives the reference result: [host veth, container], addresses on interface 1 with their gateway, IPAM routes', async () => {
    const c = pool.make('c');
    const r = await run('ADD', c, conf({ dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] } }));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [hostIf, ctrIf] = r.json.interfaces;
    expect(r.json.interfaces).toHaveLength(2);
    expect(hostIf.name).toMatch(/^veth[0-9a-f]{8}$/);
    expect(hostIf.sandbox).toBeUndefined();
    expect(ctrIf).toMatchObject({ name: 'eth0', sandbox: c.path });
    expect(c.ipJson<IpLink[]>('link', 'show', 'eth0')[0].address).toBe(ctrIf.mac);
    expect(host.ipJson<IpLink[]>('link', 'show', hostIf.name)[0].address).toBe(hostIf.mac);
    expect(r.json.ips).toEqual([
      { address: '10.47.0.2/24', gateway: '10.47.0.1', interface: 1 },
      { address: 'fd47::2/64', gateway: 'fd47::1', interface: 1 },
    ]);
    expect(r.json.routes).toEqual([{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
    expect(r.json.dns).toEqual({ nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] });
  });

  it('routes the container through the host end: gateway on-link, its subnet via the gateway, no subnet route; the host end has the gateway /32 and a host route', async () => {
    const c = pool.make('c');
    const r = await run('ADD', c);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const routes = (family: '-4' | '-6') =>
      c
        .ipJson<IpRoute[]>(family, 'route', 'show')
        .filter((x) => !x.dst.startsWith('fe80'))
        .map((x) => `${x.dst}${x.gateway ? ` via ${x.gateway}` : ''}${x.scope === 'link' ? ' scope link' : ''}${x.prefsrc ? ` src ${x.prefsrc}` : ''}`)
        .sort();
    expect(routes('-4')).toEqual(['10.47.0.0/24 via 10.47.0.1 src 10.47.0.2', '10.47.0.1 scope link src 10.47.0.2', 'default via 10.47.0.1']);
    expect(routes('-6')).toEqual(['default via fd47::1', 'fd47::/64 via fd47::1 src fd47::2', 'fd47::1 src fd47::2']);
    // the container keeps its IPAM prefix length on the address itself
    const addrs = c.ipJson<IpAddr[]>('addr', 'show', 'dev', 'eth0')[0].addr_info.filter((a) => a.scope === 'global');
    expect(addrs.map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.47.0.2/24', 'fd47::2/64']);
    const hostIf = r.json.interfaces[0].name;
    const hostAddrs = host.ipJson<IpAddr[]>('addr', 'show', 'dev', hostIf)[0].addr_info.filter((a) => a.scope === 'global');
    expect(hostAddrs.map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.47.0.1/32', 'fd47::1/128']);
    expect(hostRoutes('-4')).toEqual(['10.47.0.2 dev veth* scope host']);
    expect(hostRoutes('-6').sort()).toEqual(['fd47::1 dev veth*', 'fd47::2 dev veth*']);
    expect(host.exec('sysctl', ['-n', `net.ipv6.conf.${hostIf}.accept_ra`]).trim()).toBe('0');
    expect(host.exec('sysctl', ['-n', 'net.ipv4.ip_forward']).trim()).toBe('1');
  });

  it('connects host and container, and two containers through the host (which sees their own addresses), in both families', async () => {
    const c1 = pool.make('c');
    const c2 = pool.make('c');
    const r1 = await run('ADD', c1);
    const r2 = await run('ADD', c2);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    // both host ends carry the same gateway address; each container reaches it on its own link
    expect(pings(c1, '10.47.0.1')).toBe(true);
    expect(pings(c2, '10.47.0.1')).toBe(true);
    expect(pings(c1, 'fd47::1')).toBe(true);
    expect(pings(host, addressOf(r1, 4))).toBe(true);
    expect(pings(host, addressOf(r2, 6))).toBe(true);
    expect(pings(c1, addressOf(r2, 4))).toBe(true);
    expect(pings(c2, addressOf(r1, 6))).toBe(true);
    await serve(c2, 'tcp', 8080, 'c2');
    expect(ask(c1, 'tcp', addressOf(r2, 4), 8080)).toBe(`c2 saw ${addressOf(r1, 4)}`);
    expect(ask(host, 'tcp', addressOf(r2, 4), 8080)).toBe('c2 saw 10.47.0.1');
  });

  it('masquerades traffic to the outside behind the uplink address with ipMasq, and leaves it unanswered without', async () => {
    await serve(outside, 'tcp', 9090, 'outside');
    const masq = pool.make('c');
    expect((await run('ADD', masq)).code).toBe(0);
    expect(ask(masq, 'tcp', UPLINK.outside4, 9090)).toBe(`outside saw ${UPLINK.host4}`);
    expect(ask(masq, 'tcp', UPLINK.outside6, 9090)).toBe(`outside saw ${UPLINK.host6}`);
    expect(masqElements(4)).toEqual(['10.47.0.2']);

    const plain = pool.make('c');
    const r = await run('ADD', plain, conf({ ipMasq: false }));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(masqElements(4)).toEqual(['10.47.0.2']);
    expect(ask(plain, 'tcp', UPLINK.outside4, 9090)).toBeUndefined();
    expect(pings(plain, UPLINK.outside4)).toBe(false);
  });

  it('sets the MTU on both ends', async () => {
    const c = pool.make('c');
    const r = await run('ADD', c, conf({ mtu: 1400 }));
    expect(c.ipJson<IpLink[]>('link', 'show', 'eth0')[0].mtu).toBe(1400);
    expect(host.ipJson<IpLink[]>('link', 'show', r.json.interfaces[0].name)[0].mtu).toBe(1400);
  });

  it("gives the same result with IPAM exec'd as a separate process (CNI_TS_DELEGATE=exec)", async () => {
    const c = pool.make('c');
    const r = await run('ADD', c, conf(), { env: { ...env(), CNI_TS_DELEGATE: 'exec' } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.ips.map((i: { address: string }) => i.address)).toEqual(['10.47.0.2/24', 'fd47::2/64']);
    expect((await run('DEL', c, conf(), { env: { ...env(), CNI_TS_DELEGATE: 'exec' } })).code).toBe(0);
    expect(reservations()).toEqual([]);
  });
});

describe('ptp CHECK', () => {
  it('passes after ADD and names what is missing: a container route, the host route, the gateway address, masquerade entries', async () => {
    const c = pool.make('c');
    const add = await run('ADD', c);
    const withPrev = { ...conf(), prevResult: add.json };
    const ok = await run('CHECK', c, withPrev);
    expect(ok.code, ok.stdout).toBe(0);

    c.exec('ip', ['route', 'del', '10.47.0.0/24']);
    expect((await run('CHECK', c, withPrev)).json.msg).toContain('route to 10.47.0.0/24 via 10.47.0.1 is missing');
    c.exec('ip', ['route', 'add', '10.47.0.0/24', 'via', '10.47.0.1', 'src', '10.47.0.2']);
    expect((await run('CHECK', c, withPrev)).code).toBe(0);

    const hostIf = add.json.interfaces[0].name;
    host.exec('ip', ['route', 'del', '10.47.0.2', 'dev', hostIf]);
    const noRoute = await run('CHECK', c, withPrev);
    expect(noRoute.json).toMatchObject({ code: 140 });
    expect(noRoute.json.msg).toContain('host route to 10.47.0.2/32');
    host.exec('ip', ['route', 'add', '10.47.0.2', 'dev', hostIf, 'scope', 'host']);

    host.exec('ip', ['addr', 'del', 'fd47::1/128', 'dev', hostIf]);
    expect((await run('CHECK', c, withPrev)).json.msg).toContain('gateway address fd47::1/128 is missing');
    host.exec('ip', ['addr', 'add', 'fd47::1/128', 'dev', hostIf, 'nodad']);

    execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'flush', 'map', 'inet', 'cni_ts', 'masq4']);
    expect((await run('CHECK', c, withPrev)).json.msg).toContain('masquerade entries missing');
  });

  it('fails when forwarding is off for a family of the container', async () => {
    const c = pool.make('c');
    const add = await run('ADD', c);
    host.exec('sysctl', ['-w', 'net.ipv6.conf.all.forwarding=0']);
    expect((await run('CHECK', c, { ...conf(), prevResult: add.json })).json).toMatchObject({
      code: 140,
      msg: "net.ipv6.conf.all.forwarding is 0: the host no longer forwards the container's IPv6 traffic",
    });
  });

  it('fails when the container interface is not the one of prevResult', async () => {
    const c = pool.make('c');
    const add = await run('ADD', c);
    const other = { ...add.json, interfaces: [add.json.interfaces[0], { ...add.json.interfaces[1], mac: '02:00:00:00:00:01' }] };
    expect((await run('CHECK', c, { ...conf(), prevResult: other })).json.msg).toContain('not 02:00:00:00:00:01');
    const elsewhere = { ...add.json, interfaces: [add.json.interfaces[0], { ...add.json.interfaces[1], sandbox: '/run/netns/elsewhere' }] };
    expect((await run('CHECK', c, { ...conf(), prevResult: elsewhere })).json).toMatchObject({ code: 140 });
  });
});

describe('ptp DEL', () => {
  it('leaves no veth, host route, gateway address, masquerade element, reservation or record; a second DEL is fine', async () => {
    const c = pool.make('c');
    const add = await run('ADD', c);
    expect(hostVeths()).toHaveLength(1);
    expect(masqElements(4)).toEqual(['10.47.0.2']);
    expect(masqElements(6)).toEqual(['fd47::2']);
    expect(records()).toHaveLength(1);
    const del = await run('DEL', c, { ...conf(), prevResult: add.json });
    expect(del.code, del.stdout).toBe(0);
    expect(hostVeths()).toEqual([]);
    expect(hostRoutes('-4')).toEqual([]);
    expect(hostRoutes('-6')).toEqual([]);
    expect(c.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(masqElements(4)).toEqual([]);
    expect(masqElements(6)).toEqual([]);
    expect(reservations()).toEqual([]);
    expect(records()).toEqual([]);
    expect((await run('DEL', c)).code).toBe(0);
  });

  it('cleans up when the netns is already gone', async () => {
    const c = pool.make('c');
    await run('ADD', c);
    const path = c.path;
    c.destroy();
    const del = await run('DEL', path);
    expect(del.code, del.stdout).toBe(0);
    expect(reservations()).toEqual([]);
    expect(masqElements(4)).toEqual([]);
    expect(hostVeths()).toEqual([]);
    expect(records()).toEqual([]);
  });

  it('removes the host end by its record when the namespace path is gone but a process keeps the namespace', async () => {
    const c = pool.make('c');
    await run('ADD', c);
    // a process inside keeps the namespace (and the veth pair) alive after its name is removed; it
    // says when it is in, or the name could go (and the namespace with it) before it gets there
    const holder = spawn('ip', ['netns', 'exec', c.name, 'sh', '-c', 'echo in; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve, reject) => {
        holder.stdout.once('data', resolve);
        holder.once('exit', (code) => reject(new Error(`the namespace holder exited with ${code}`)));
      });
      const path = c.path;
      c.destroy();
      expect(hostVeths()).toHaveLength(1);
      const del = await run('DEL', path);
      expect(del.code, del.stdout).toBe(0);
      expect(hostVeths()).toEqual([]);
      expect(hostRoutes('-4')).toEqual([]);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it("takes over a reused address (an earlier DEL lost) whose element jumps to another chain, and the late DEL leaves the newer container's entry", async () => {
    const a = pool.make('c');
    const b = pool.make('c');
    await run('ADD', a);
    // A's address is released without A's DEL (as after a crash), and B gets it with another exception list
    execFileSync('sh', ['-c', `rm -f ${join(dir, 'ipam', 'ptpnet')}/10.47.0.2 ${join(dir, 'ipam', 'ptpnet')}/last_reserved_ip.0`]);
    await serve(outside, 'tcp', 9090, 'outside');
    const rb = await run('ADD', b, conf({ nonMasqueradeCIDRs: ['10.0.0.0/8'] }));
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(addressOf(rb, 4)).toBe('10.47.0.2');
    const map = host.exec('nft', ['list', 'map', 'inet', 'cni_ts', 'masq4']);
    expect(map).toMatch(/10\.47\.0\.2 : jump masq4-10_47_0_0_24-x[0-9a-f]{8}/);
    expect((await run('DEL', a)).code).toBe(0);
    expect(masqElements(4)).toEqual(['10.47.0.2']);
    expect(ask(b, 'tcp', UPLINK.outside4, 9090)).toBe(`outside saw ${UPLINK.host4}`);
    expect((await run('CHECK', b, { ...conf({ nonMasqueradeCIDRs: ['10.0.0.0/8'] }), prevResult: rb.json })).code).toBe(0);
  });

  it('does not refuse a config ADD would refuse, and still removes everything', async () => {
    const c = pool.make('c');
    await run('ADD', c);
    const hostile = { ...conf(), mtu: 20, ipMasqBackend: 'ebtables', nonMasqueradeCIDRs: ['nonsense'] };
    expect((await run('ADD', pool.make('c'), hostile)).json.code).toBe(7);
    const del = await run('DEL', c, hostile);
    expect(del.code, del.stdout).toBe(0);
    expect(hostVeths()).toEqual([]);
    expect(masqElements(4)).toEqual([]);
    expect(reservations()).toEqual([]);
  });
});

describe('ptp ADD failures leave nothing behind', () => {
  const assertClean = (c: TestNetns) => {
    expect(hostVeths()).toEqual([]);
    expect(hostRoutes('-4')).toEqual([]);
    expect(c.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(masqElements(4)).toEqual([]);
    expect(records()).toEqual([]);
  };

  it('IPAM exhausted: no veth, the first container untouched', async () => {
    const first = pool.make('c');
    const second = pool.make('c');
    const tiny = conf({}, { ranges: [[{ subnet: '10.47.0.0/30' }]], routes: [] });
    expect((await run('ADD', first, tiny)).code).toBe(0);
    const r = await run('ADD', second, tiny);
    expect(r.json).toMatchObject({ code: 100 });
    expect(hostVeths()).toHaveLength(1);
    expect(second.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(reservations()).toEqual(['10.47.0.2']);
  });

  it('a route the kernel refuses (after the veth exists): veth, host route, masquerade, record and reservation go', async () => {
    const c = pool.make('c');
    const r = await run('ADD', c, conf({}, { routes: [{ dst: '10.99.0.0/16', gw: '10.77.0.1' }] }));
    expect(r.code).toBe(1);
    assertClean(c);
    expect(reservations()).toEqual([]);
  });

  it('an IPAM address without a gateway (static): code 7 naming the address, no veth', async () => {
    const c = pool.make('c');
    const r = await run('ADD', c, conf({ ipam: { type: 'static', addresses: [{ address: '10.47.0.9/24' }] } }));
    expect(r.json.code).toBe(7);
    expect(r.json.msg).toContain('10.47.0.9/24 without a gateway');
    assertClean(c);
  });

  it('a repeated ADD of a live attachment fails and leaves the first one whole (host-local hands the same addresses back)', async () => {
    const c = pool.make('c');
    const first = await run('ADD', c);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const again = await run('ADD', c);
    expect(again.json).toMatchObject({ code: 110, msg: expect.stringContaining('"eth0" already exists') });
    expect(reservations().sort()).toEqual(['10.47.0.2', 'fd47::2']);
    expect(masqElements(4)).toEqual(['10.47.0.2']);
    expect(records()).toHaveLength(1);
    expect((await run('CHECK', c, { ...conf(), prevResult: first.json })).code).toBe(0);
  });

  it('an interface name already in the container, a missing netns, a bad config', async () => {
    const c = pool.make('c');
    c.exec('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0peer']);
    const taken = await run('ADD', c);
    expect(taken.json.msg).toContain('"eth0" already exists');
    expect(hostVeths()).toEqual([]);
    expect(reservations()).toEqual([]);
    expect((await run('ADD', '/run/netns/cnit-missing')).json.code).toBe(8);
    const bad = await run('ADD', pool.make('c'), conf({}, { ranges: [[{ subnet: '10.47.0.0/24', rangeStart: '10.48.0.1' }]] }));
    expect(bad.json.code).toBe(7);
    expect(bad.json.msg).toContain('ipam.ranges[0][0].rangeStart');
    expect(hostVeths()).toEqual([]);
  });
});

describe('ptp STATUS and GC (CNI 1.1)', () => {
  const v11 = (extra: Record<string, unknown> = {}) => ({ ...conf(), cniVersion: '1.1.0', ...extra });

  it('GC removes the masquerade entries, host veth records and addresses of attachments not in the valid list', async () => {
    const keep = pool.make('c');
    const drop = pool.make('c');
    await run('ADD', keep, v11());
    await run('ADD', drop, v11());
    expect(masqElements(4).sort()).toEqual(['10.47.0.2', '10.47.0.3']);
    const gc = await execGc('ptp', v11(), [`ctr-${keep.name}`], { inNetns: host.name, env: env() });
    expect(gc.code, gc.stdout).toBe(0);
    expect(masqElements(4)).toEqual(['10.47.0.2']);
    expect(reservations().sort()).toEqual(['10.47.0.2', 'fd47::2']);
    expect(records()).toHaveLength(1);
    expect(hostVeths()).toHaveLength(1);
  });

  it("STATUS answers with IPAM's readiness", async () => {
    const status = (stdin: object) => execPlugin('ptp', { command: 'STATUS', inNetns: host.name, env: env(), stdin });
    expect((await status(v11())).code).toBe(0);
    const r = await status(v11({ ipam: { type: 'no-such-ipam' } }));
    expect(r.json).toMatchObject({ code: 7 });
  });
});
