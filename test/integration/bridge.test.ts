import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execGc, execPlugin, type PluginInvocation } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { masqElements as masqElementsIn } from '../helpers/nft';
import { useNodeFixture } from '../helpers/node-fixture';
import { UPLINK, pings } from '../helpers/topology';
import { reservedAddresses } from '../helpers/host-local-store';

let dir: string;
let host: TestNetns;
const pool = useNodeFixture('cnit-br-', (node) => ({ dir, host } = node));

function conf(extra: Record<string, unknown> = {}, ranges: unknown = [[{ subnet: '10.44.0.0/24' }], [{ subnet: 'fd44::/64' }]]) {
  return {
    cniVersion: '1.0.0',
    name: 'brnet',
    type: 'bridge',
    bridge: 'cnit0',
    isGateway: true,
    isDefaultGateway: true,
    ipMasq: true,
    ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges },
    ...extra,
  };
}

const env = () => ({ CNI_TS_STATE_DIR: join(dir, 'state') });
const run = (command: string, ctr: TestNetns | string, stdin: object = conf(), inv: PluginInvocation = {}) =>
  execPlugin('bridge', {
    command,
    containerId: typeof ctr === 'string' ? 'gone' : `ctr-${ctr.name}`,
    netns: typeof ctr === 'string' ? ctr : ctr.path,
    ifname: 'eth0',
    stdin,
    inNetns: host.name,
    env: env(),
    ...inv,
  });

type IpLink = { ifname: string; master?: string; address: string; linkinfo?: { info_kind: string } };
const hostVeths = () => host.ipJson<IpLink[]>('-d', 'link', 'show', 'type', 'veth').filter((l) => l.ifname !== 'uplink0');
const ipamFiles = () => reservedAddresses(join(dir, 'ipam'), 'brnet');
const masqElements = (family: 4 | 6) => masqElementsIn(host, family);
const addressOf = (r: { json: { ips: Array<{ address: string }> } }, family: 4 | 6) =>
  r.json.ips.map((i) => i.address.split('/')[0]).find((a) => (family === 6) === a.includes(':'))!;

describe('bridge ADD', () => {
  it('connects two containers to the bridge: gateway, each other and IPv6 reachable, result as the reference shapes it', async () => {
    const c1 = pool.make('c');
    const c2 = pool.make('c');
    const r1 = await run('ADD', c1);
    const r2 = await run('ADD', c2);
    expect(r1.code, r1.stdout + r1.stderr).toBe(0);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);

    const [bridge, hostVeth, ctrIf] = r1.json.interfaces;
    expect(bridge.name).toBe('cnit0');
    expect(ctrIf).toMatchObject({ name: 'eth0', sandbox: c1.path });
    expect(c1.ipJson<IpLink[]>('link', 'show', 'eth0')[0].address).toBe(ctrIf.mac);
    expect(host.ipJson<IpLink[]>('link', 'show', hostVeth.name)[0].master).toBe('cnit0');
    expect(r1.json.ips).toEqual([
      { address: '10.44.0.2/24', gateway: '10.44.0.1', interface: 2 },
      { address: 'fd44::2/64', gateway: 'fd44::1', interface: 2 },
    ]);

    expect(pings(c1, '10.44.0.1')).toBe(true);
    expect(pings(c1, addressOf(r2, 4))).toBe(true);
    expect(pings(c2, addressOf(r1, 4))).toBe(true);
    expect(pings(c1, 'fd44::1')).toBe(true);
    expect(pings(c1, addressOf(r2, 6))).toBe(true);
    const routes = c1.ipJson<Array<{ dst: string; gateway?: string }>>('route', 'show');
    expect(routes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.44.0.1' }));
  });

  it('reaches beyond the host through masquerade, and not without it', async () => {
    const masq = pool.make('c');
    await run('ADD', masq);
    expect(pings(masq, UPLINK.outside4)).toBe(true);
    expect(pings(masq, UPLINK.outside6)).toBe(true);

    const plain = pool.make('c');
    const r = await run('ADD', plain, conf({ ipMasq: false }));
    expect(r.code).toBe(0);
    expect(pings(plain, UPLINK.outside4)).toBe(false);
  });

  it("gives the same result with IPAM exec'd as a separate process (CNI_TS_DELEGATE=exec)", async () => {
    const inProcess = pool.make('c');
    const execd = pool.make('c');
    const a = await run('ADD', inProcess);
    const b = await run('ADD', execd, conf(), { env: { ...env(), CNI_TS_DELEGATE: 'exec' } });
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(b.json.ips.map((i: { gateway: string; interface: number }) => [i.gateway, i.interface])).toEqual(
      a.json.ips.map((i: { gateway: string; interface: number }) => [i.gateway, i.interface]),
    );
    expect(ipamFiles().sort()).toEqual(['10.44.0.2', '10.44.0.3', 'fd44::2', 'fd44::3']);
    expect((await run('DEL', execd, conf(), { env: { ...env(), CNI_TS_DELEGATE: 'exec' } })).code).toBe(0);
    expect(ipamFiles().sort()).toEqual(['10.44.0.2', 'fd44::2']);
  });

  it('drops frames from another source MAC with macspoofchk, and DEL removes the check', async () => {
    const c = pool.make('c');
    const r = await run('ADD', c, conf({ macspoofchk: true }));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(pings(c, '10.44.0.1')).toBe(true);
    c.exec('ip', ['link', 'set', 'eth0', 'address', '02:66:66:66:66:66']);
    c.exec('ip', ['neigh', 'flush', 'all']);
    expect(pings(c, '10.44.0.1')).toBe(false);
    c.exec('ip', ['link', 'set', 'eth0', 'address', r.json.interfaces[2].mac]);
    expect(pings(c, '10.44.0.1')).toBe(true);
    expect((await run('CHECK', c, { ...conf({ macspoofchk: true }), prevResult: r.json })).code).toBe(0);
    expect((await run('DEL', c, conf({ macspoofchk: true }))).code).toBe(0);
    const sets = host.exec('nft', ['list', 'table', 'bridge', 'cni_ts']);
    expect(sets).not.toContain(r.json.interfaces[1].name);
  });

  it('sets hairpin mode on the host veth port when asked', async () => {
    const c = pool.make('c');
    const r = await run('ADD', c, conf({ hairpinMode: true }));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const details = host.exec('ip', ['-d', 'link', 'show', r.json.interfaces[1].name]);
    expect(details).toContain('hairpin on');
    expect(details).toMatch(/state forwarding/);
  });

  it('uses the MAC from the mac capability', async () => {
    const c = pool.make('c');
    const r = await run('ADD', c, conf({ runtimeConfig: { mac: '02:aa:bb:cc:dd:ee' } }));
    expect(r.json.interfaces[2].mac).toBe('02:aa:bb:cc:dd:ee');
    expect(c.ipJson<IpLink[]>('link', 'show', 'eth0')[0].address).toBe('02:aa:bb:cc:dd:ee');
  });
});

describe('bridge CHECK', () => {
  it('passes after ADD and names the route once someone deletes it', async () => {
    const c = pool.make('c');
    const add = await run('ADD', c);
    const withPrev = { ...conf(), prevResult: add.json };
    const ok = await run('CHECK', c, withPrev);
    expect(ok.code, ok.stdout).toBe(0);
    c.exec('ip', ['route', 'del', 'default']);
    const bad = await run('CHECK', c, withPrev);
    expect(bad.code).toBe(1);
    expect(bad.json.msg).toContain('route to 0.0.0.0/0 via 10.44.0.1 is missing');
  });

  it('fails when the masquerade entries were flushed', async () => {
    const c = pool.make('c');
    const add = await run('ADD', c);
    execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'flush', 'map', 'inet', 'cni_ts', 'masq4']);
    const bad = await run('CHECK', c, { ...conf(), prevResult: add.json });
    expect(bad.json.msg).toContain('masquerade entries missing');
  });
});

describe('bridge DEL', () => {
  it('leaves no veth, no IPAM file, no nft element; a second DEL is fine; the bridge stays', async () => {
    const c = pool.make('c');
    const add = await run('ADD', c);
    expect(hostVeths()).toHaveLength(1);
    expect(masqElements(4)).toEqual(['10.44.0.2']);
    const del = await run('DEL', c, { ...conf(), prevResult: add.json });
    expect(del.code, del.stdout).toBe(0);
    expect(hostVeths()).toEqual([]);
    expect(c.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(ipamFiles()).toEqual([]);
    expect(masqElements(4)).toEqual([]);
    expect(masqElements(6)).toEqual([]);
    expect((await run('DEL', c)).code).toBe(0);
    expect(host.ipJson<IpLink[]>('link', 'show', 'cnit0')).toHaveLength(1);
  });

  it('cleans up when the netns is already gone', async () => {
    const c = pool.make('c');
    await run('ADD', c);
    const path = c.path;
    c.destroy();
    const del = await run('DEL', path, conf(), { containerId: `ctr-${path.split('/').pop()}` });
    expect(del.code, del.stdout).toBe(0);
    expect(ipamFiles()).toEqual([]);
    expect(masqElements(4)).toEqual([]);
    expect(hostVeths()).toEqual([]);
  });

  it("does not remove a newer container's masquerade entry for a reused address", async () => {
    const a = pool.make('c');
    const b = pool.make('c');
    await run('ADD', a);
    // A's address is released without A's DEL (as after a crash), and B gets it
    execFileSync('sh', ['-c', `rm -f ${join(dir, 'ipam', 'brnet')}/10.44.0.2 ${join(dir, 'ipam', 'brnet')}/last_reserved_ip.0`]);
    const rb = await run('ADD', b);
    expect(addressOf(rb, 4)).toBe('10.44.0.2');
    await run('DEL', a);
    expect(masqElements(4)).toContain('10.44.0.2');
    expect(pings(b, UPLINK.outside4)).toBe(true);
  });
});

describe('bridge ADD failures leave nothing behind', () => {
  const assertClean = (c: TestNetns) => {
    expect(hostVeths()).toEqual([]);
    expect(c.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(masqElements(4)).toEqual([]);
  };

  it('rolls back the veth when IPAM is exhausted', async () => {
    const first = pool.make('c');
    const second = pool.make('c');
    const tiny = conf({}, [[{ subnet: '10.44.0.0/30' }]]);
    expect((await run('ADD', first, tiny)).code).toBe(0);
    const r = await run('ADD', second, tiny);
    expect(r.json).toMatchObject({ code: 100 });
    expect(hostVeths()).toHaveLength(1);
    expect(second.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(ipamFiles()).toEqual(['10.44.0.2']);
  });

  it('rolls back on a bad IPAM config and names the field', async () => {
    const c = pool.make('c');
    const r = await run('ADD', c, conf({}, [[{ subnet: '10.44.0.0/24', rangeStart: '10.45.0.1' }]]));
    expect(r.json.code).toBe(7);
    expect(r.json.msg).toContain('ipam.ranges[0][0].rangeStart');
    assertClean(c);
  });

  it('rolls back the IP reservation when the container interface cannot be configured', async () => {
    const c = pool.make('c');
    // a route IPAM hands out that the kernel refuses (gateway unreachable) fails after IPAM ADD
    const bad = conf({ ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.44.0.0/24' }]], routes: [{ dst: '10.99.0.0/16', gw: '10.77.0.1' }] } });
    const r = await run('ADD', c, bad);
    expect(r.code).toBe(1);
    assertClean(c);
    expect(ipamFiles()).toEqual([]);
  });

  it('refuses an interface name already in the container and a missing netns', async () => {
    const c = pool.make('c');
    c.exec('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0peer']);
    const taken = await run('ADD', c);
    expect(taken.json.msg).toContain('"eth0" already exists');
    expect(hostVeths()).toEqual([]);
    expect(
      c
        .ipJson<IpLink[]>('link', 'show')
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['eth0', 'eth0peer', 'lo']);
    expect(ipamFiles()).toEqual([]);
    const gone = await run('ADD', '/run/netns/cnit-missing');
    expect(gone.json.code).toBe(8);
  });

  it('rejects a bridge name taken by another kind of interface', async () => {
    const c = pool.make('c');
    host.exec('ip', ['link', 'add', 'cnit0', 'type', 'veth', 'peer', 'name', 'cnit0peer']);
    const r = await run('ADD', c);
    expect(r.json.msg).toContain('exists and is not a bridge');
    expect(
      hostVeths()
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['cnit0', 'cnit0peer']);
    expect(c.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
  });
});

describe('bridge STATUS and GC (CNI 1.1)', () => {
  const v11 = (extra: Record<string, unknown> = {}) => ({ ...conf(), cniVersion: '1.1.0', ...extra });

  it('GC removes masquerade entries and addresses of attachments not in the valid list', async () => {
    const keep = pool.make('c');
    const drop = pool.make('c');
    await run('ADD', keep, v11());
    await run('ADD', drop, v11());
    expect(masqElements(4).sort()).toEqual(['10.44.0.2', '10.44.0.3']);
    const gc = await execGc('bridge', v11(), [`ctr-${keep.name}`], { inNetns: host.name, env: env() });
    expect(gc.code, gc.stdout).toBe(0);
    expect(masqElements(4)).toEqual(['10.44.0.2']);
    expect(ipamFiles().sort()).toEqual(['10.44.0.2', 'fd44::2']);
  });

  it('STATUS is ready with a free bridge name and answers 50 when a non-bridge holds it', async () => {
    const status = () => execPlugin('bridge', { command: 'STATUS', inNetns: host.name, env: env(), stdin: v11() });
    expect((await status()).code).toBe(0);
    host.exec('ip', ['link', 'add', 'cnit0', 'type', 'veth', 'peer', 'name', 'cnit0peer']);
    const r = await status();
    expect(r.json).toMatchObject({ code: 50 });
  });
});
