import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execGc, execPlugin, type PluginInvocation } from '../helpers/exec-plugin';
import { addLanNic, useLanFixture, type LanNic } from '../helpers/lan';
import type { TestNetns } from '../helpers/netns';
import { pings } from '../helpers/topology';
import { reservedAddresses } from '../helpers/host-local-store';

/**
 * The "physical" device is a veth end whose peer sits in a LAN namespace: it moves into a
 * container and back like a NIC, carries real traffic, and has what DEL must restore (name, alias,
 * MTU, MAC, addresses, up/down). What only a real NIC does, coming back to the initial namespace
 * when the container's namespace is deleted, is played by moving it there by hand (see below);
 * the kernel's own path needs a machine of its own (test/lab).
 */
let dir: string;
let host: TestNetns;
let lan: TestNetns;
const pool = useLanFixture('cnit-hd-', (f) => ({ dir, host, lan } = f));

const nic = (mtu = 1450): LanNic => addLanNic(host, lan, 'hd0', 'lan0', { v4: '10.81.0', v6: 'fd81:0:0:1', mtu });

function conf(extra: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.0.0',
    name: 'hdnet',
    type: 'host-device',
    device: 'hd0',
    ipam: {
      type: 'host-local',
      dataDir: join(dir, 'ipam'),
      ranges: [[{ subnet: '10.81.0.0/24', rangeStart: '10.81.0.20', gateway: '10.81.0.1' }], [{ subnet: 'fd81:0:0:1::/64', gateway: 'fd81:0:0:1::1' }]],
      routes: [{ dst: '0.0.0.0/0' }],
    },
    ...extra,
  };
}

const env = () => ({ CNI_TS_STATE_DIR: join(dir, 'state') });
const run = (command: string, ctr: TestNetns | string, stdin: object = conf(), inv: PluginInvocation = {}) =>
  execPlugin('host-device', {
    command,
    containerId: typeof ctr === 'string' ? 'gone' : `ctr-${ctr.name}`,
    netns: typeof ctr === 'string' ? ctr : ctr.path,
    ifname: 'eth0',
    stdin,
    inNetns: host.name,
    env: env(),
    ...inv,
  });

type IpLink = { ifname: string; address: string; mtu: number; flags: string[]; ifalias?: string };
type IpAddr = IpLink & { addr_info: Array<{ local: string; prefixlen: number; scope: string }> };
const linkNames = (ns: TestNetns) => ns.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname);
/** A link as DEL must restore it: name, alias, MTU, MAC, up or down, global addresses (carrier comes and goes on its own). */
function deviceState(ns: TestNetns, name: string) {
  const [l] = ns.ipJson<IpAddr[]>('addr', 'show', 'dev', name);
  // `ip -j addr` leaves the alias out; `ip -j link` has it
  const [withAlias] = ns.ipJson<IpLink[]>('link', 'show', 'dev', name);
  return {
    ifname: l.ifname,
    alias: withAlias.ifalias,
    mtu: l.mtu,
    address: l.address,
    up: l.flags.includes('UP'),
    addresses: l.addr_info.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`),
  };
}
const records = () => {
  const base = join(dir, 'state', 'host-device', 'attachments', 'hdnet');
  return existsSync(base) ? readdirSync(base) : [];
};
const reservations = () => reservedAddresses(join(dir, 'ipam'), 'hdnet');

/** The device as an operator left it: an alias, an address, up, MTU 1450. */
function preparedNic(): { lanNic: LanNic; before: ReturnType<typeof deviceState> } {
  const lanNic = nic();
  host.exec('ip', ['link', 'set', 'hd0', 'alias', 'uplink to rack 7']);
  host.exec('ip', ['addr', 'add', '192.0.2.9/24', 'dev', 'hd0']);
  host.exec('ip', ['addr', 'add', '2001:db8:9::9/64', 'dev', 'hd0', 'nodad']);
  return { lanNic, before: deviceState(host, 'hd0') };
}

describe('host-device ADD, CHECK and DEL', () => {
  it('moves the device in as CNI_IFNAME with its host name as alias, addresses it and carries traffic; CHECK passes', async () => {
    const { lanNic, before } = preparedNic();
    const c = pool.make('c');
    const r = await run('ADD', c);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(linkNames(host)).not.toContain('hd0');
    expect(r.json).toEqual({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'eth0', mac: before.address, sandbox: c.path }],
      ips: [
        { address: '10.81.0.20/24', gateway: '10.81.0.1', interface: 0 },
        { address: 'fd81:0:0:1::2/64', gateway: 'fd81:0:0:1::1', interface: 0 },
      ],
      routes: [{ dst: '0.0.0.0/0' }],
    });
    expect(deviceState(c, 'eth0')).toEqual({ ifname: 'eth0', alias: 'hd0', mtu: 1450, address: before.address, up: true, addresses: ['10.81.0.20/24', 'fd81:0:0:1::2/64'] });
    expect(c.ipJson<Array<{ dst: string; gateway?: string }>>('route', 'show')).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.81.0.1' }));
    expect(pings(c, lanNic.peer4)).toBe(true);
    expect(pings(c, lanNic.peer6)).toBe(true);
    expect(pings(lan, '10.81.0.20')).toBe(true);
    const check = await run('CHECK', c, { ...conf(), prevResult: r.json });
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });

  it('DEL gives it back under its name with its alias, MTU, MAC, addresses and up state (the reference leaves it down without them), and is idempotent', async () => {
    const { before } = preparedNic();
    const c = pool.make('c');
    expect((await run('ADD', c)).code).toBe(0);
    // what a chained tuning plugin or the workload may have changed in the container
    c.exec('ip', ['link', 'set', 'eth0', 'mtu', '1300']);
    const del = await run('DEL', c);
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(linkNames(c)).toEqual(['lo']);
    expect(deviceState(host, 'hd0')).toEqual(before);
    expect(reservations()).toEqual([]);
    expect(records()).toEqual([]);
    expect((await run('DEL', c)).code).toBe(0);
    expect(deviceState(host, 'hd0')).toEqual(before);
  });

  it('a device that was down comes back down', async () => {
    nic();
    host.exec('ip', ['link', 'set', 'hd0', 'down']);
    const before = deviceState(host, 'hd0');
    const c = pool.make('c');
    expect((await run('ADD', c)).code).toBe(0);
    expect(deviceState(c, 'eth0').up).toBe(true);
    expect((await run('DEL', c)).code).toBe(0);
    expect(deviceState(host, 'hd0')).toEqual(before);
  });

  it('finds the device by hwaddr; without IPAM it is only moved in and set up', async () => {
    const { before } = preparedNic();
    const c = pool.make('c');
    const cfg = conf({ device: undefined, hwaddr: before.address.toUpperCase(), ipam: undefined });
    const r = await run('ADD', c, cfg);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toEqual({ cniVersion: '1.0.0', interfaces: [{ name: 'eth0', mac: before.address, sandbox: c.path }] });
    expect(deviceState(c, 'eth0')).toMatchObject({ up: true, addresses: [] });
    expect((await run('CHECK', c, { ...cfg, prevResult: r.json })).code).toBe(0);
    expect((await run('DEL', c, cfg)).code).toBe(0);
    expect(deviceState(host, 'hd0')).toEqual(before);
  });

  it('CHECK tells a MAC that changed, an address that went, and a device that is not the one moved in', async () => {
    preparedNic();
    const c = pool.make('c');
    const r = await run('ADD', c);
    const check = () => run('CHECK', c, { ...conf(), prevResult: r.json });
    c.exec('ip', ['addr', 'del', '10.81.0.20/24', 'dev', 'eth0']);
    expect((await check()).json).toMatchObject({ code: 140, msg: expect.stringContaining('10.81.0.20/24') });
    c.exec('ip', ['addr', 'add', '10.81.0.20/24', 'dev', 'eth0']);
    c.exec('ip', ['route', 'add', 'default', 'via', '10.81.0.1']);
    expect((await check()).code).toBe(0);
    c.exec('ip', ['link', 'set', 'eth0', 'alias', 'something else']);
    expect((await check()).json).toMatchObject({ code: 140, msg: expect.stringContaining('is not host device "hd0"') });
  });

  it('DEL after the namespace is gone: a virtual device died with it, the record and the reservation go, DEL succeeds', async () => {
    nic();
    const c = pool.make('c');
    expect((await run('ADD', c)).code).toBe(0);
    const path = c.path;
    c.destroy();
    const del = await run('DEL', c, conf(), { netns: path, containerId: `ctr-${c.name}` });
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(records()).toEqual([]);
    expect(reservations()).toEqual([]);
    expect(linkNames(host)).toEqual(['lo']);
  });

  it('DEL after the kernel gave a physical device back (namespace deleted: it lands in the host as "dev<N>", alias kept): renamed and restored', async () => {
    const { before } = preparedNic();
    const c = pool.make('c');
    expect((await run('ADD', c)).code).toBe(0);
    // what the kernel does to a physical device when its namespace is deleted (default_device_exit):
    // back to the initial namespace (here: the test's host), under a free name, down, addresses dropped
    c.exec('ip', ['link', 'set', 'eth0', 'netns', host.name, 'name', 'dev7']);
    const path = c.path;
    c.destroy();
    expect(deviceState(host, 'dev7')).toMatchObject({ alias: 'hd0', up: false, addresses: [] });
    const del = await run('DEL', c, conf(), { netns: path, containerId: `ctr-${c.name}` });
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(deviceState(host, 'hd0')).toEqual(before);
    expect(linkNames(host)).not.toContain('dev7');
    expect(records()).toEqual([]);
  });

  it("DEL of a device the reference's ADD moved in (no record of ours): back under the alias' name, alias cleared, left down, as the reference does", async () => {
    nic();
    const c = pool.make('c');
    // the reference's ADD, as the kernel shows it: renamed eth0, alias = host name, up
    host.exec('ip', ['link', 'set', 'hd0', 'alias', 'hd0']);
    host.exec('ip', ['link', 'set', 'hd0', 'netns', c.name, 'name', 'eth0']);
    c.exec('ip', ['link', 'set', 'eth0', 'up']);
    const del = await run('DEL', c, conf({ ipam: undefined }));
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(deviceState(host, 'hd0')).toMatchObject({ ifname: 'hd0', alias: undefined, up: false });
  });
});

describe('a failed host-device ADD leaves the device as it was', () => {
  it('refuses before moving anything: no such device, an interface name taken in the container', async () => {
    const { before } = preparedNic();
    const c = pool.make('c');
    expect((await run('ADD', c, conf({ device: 'nope0' }))).json).toMatchObject({ code: 110, msg: expect.stringContaining('"nope0"') });
    expect((await run('ADD', c, conf({ device: undefined, hwaddr: '02:de:ad:be:ef:00' }))).json).toMatchObject({ code: 110, msg: expect.stringContaining('02:de:ad:be:ef:00') });
    c.exec('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    expect((await run('ADD', c)).json).toMatchObject({ code: 110, msg: expect.stringContaining('already exists') });
    expect(deviceState(host, 'hd0')).toEqual(before);
    expect(reservations()).toEqual([]);
    expect(records()).toEqual([]);
  });

  it('a failure after the move and the reservation (a route IPAM asks for cannot be added) sends the device back restored and releases the addresses', async () => {
    const { before } = preparedNic();
    const c = pool.make('c');
    const bad = conf();
    (bad.ipam.routes as object[]).push({ dst: '10.91.0.0/16', gw: '192.0.2.77' });
    const r = await run('ADD', c, bad);
    expect(r.code).not.toBe(0);
    expect(r.json.msg).toContain('10.91.0.0/16');
    expect(linkNames(c)).toEqual(['lo']);
    expect(deviceState(host, 'hd0')).toEqual(before);
    expect(reservations()).toEqual([]);
    expect(records()).toEqual([]);
  });
});

describe('host-device STATUS and GC (CNI 1.1)', () => {
  it("GC gives back the devices of attachments not in the valid list, keeps the others, and runs IPAM's GC", async () => {
    const { before } = preparedNic();
    addLanNic(host, lan, 'hd1', 'lan1', { v4: '10.82.0', v6: 'fd82:0:0:1' });
    const drop = pool.make('c');
    const keep = pool.make('c');
    expect((await run('ADD', drop)).code).toBe(0);
    expect((await run('ADD', keep, conf({ device: 'hd1' }))).code).toBe(0);
    expect(records()).toHaveLength(2);
    const gc = await execGc('host-device', conf(), [`ctr-${keep.name}`], { inNetns: host.name, env: env() });
    expect(gc.code, gc.stdout + gc.stderr).toBe(0);
    expect(deviceState(host, 'hd0')).toEqual(before);
    expect(linkNames(drop)).toEqual(['lo']);
    expect(linkNames(keep)).toContain('eth0');
    expect(records()).toHaveLength(1);
    expect(reservations().sort()).toEqual(['10.81.0.21', 'fd81:0:0:1::3']);
    const status = await execPlugin('host-device', { command: 'STATUS', inNetns: host.name, env: env(), stdin: { ...conf(), cniVersion: '1.1.0' } });
    expect(status.code, status.stdout + status.stderr).toBe(0);
  });
});
