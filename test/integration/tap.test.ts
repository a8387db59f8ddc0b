import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useDirFixture } from '../helpers/dir-fixture';
import { execPlugin, type PluginInvocation } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { reservedAddresses } from '../helpers/host-local-store';

let dir: string;
let ctr: TestNetns;
const pool = useDirFixture('cnit-tap-', 'c', (d, ns) => {
  dir = d;
  ctr = ns;
});

function conf(extra: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.0.0',
    name: 'tapnet',
    type: 'tap',
    ipam: {
      type: 'host-local',
      dataDir: join(dir, 'ipam'),
      ranges: [[{ subnet: '10.83.0.0/24', gateway: '10.83.0.1' }], [{ subnet: 'fd83::/64', gateway: 'fd83::1' }]],
      routes: [{ dst: '0.0.0.0/0' }],
    },
    ...extra,
  };
}

const run = (command: string, ns: TestNetns | string, stdin: object = conf(), inv: PluginInvocation = {}) =>
  execPlugin('tap', {
    command,
    containerId: 'tapctr',
    netns: typeof ns === 'string' ? ns : ns.path,
    ifname: 'tap0',
    stdin,
    env: { CNI_TS_STATE_DIR: join(dir, 'state') },
    ...inv,
  });

type IpLink = {
  ifname: string;
  address: string;
  mtu: number;
  flags: string[];
  master?: string;
  linkinfo?: { info_kind: string; info_data?: { type?: string; pi?: boolean; vnet_hdr?: boolean; multi_queue?: boolean; persist?: boolean; user?: string; group?: string } };
};
type IpAddr = { addr_info: Array<{ local: string; prefixlen: number; scope: string }> };
const tap = (ns: TestNetns = ctr) => ns.ipJson<IpLink[]>('-d', 'link', 'show', 'tap0')[0];
const linkNames = (ns: TestNetns = ctr) => ns.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname);
const globalAddresses = () =>
  ctr
    .ipJson<IpAddr[]>('addr', 'show', 'tap0')[0]
    .addr_info.filter((a) => a.scope === 'global')
    .map((a) => `${a.local}/${a.prefixlen}`);
const reservations = () => reservedAddresses(join(dir, 'ipam'), 'tapnet');

const readers: ChildProcess[] = [];
afterEach(() => {
  for (const r of readers.splice(0)) r.kill('SIGKILL');
});

/** A process in the container that opens the tap as a VM manager would, and reports the first ARP request the kernel sends through it. */
function attachReader(multiQueue = false): Promise<{ arp: Promise<string> }> {
  const child = spawn('ip', ['netns', 'exec', ctr.name, process.execPath, join(__dirname, '..', 'helpers', 'tap-reader.mjs'), 'tap0', ...(multiQueue ? ['multi_queue'] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  readers.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const arp = new Promise<string>((done) => child.stdout!.on('data', (c) => (out += c) && out.includes('arp') && done(out.split('\n')[1])));
    child.stdout!.once('data', () => resolve({ arp }));
    child.once('exit', (code) => code && reject(new Error(`tap reader exited with ${code}`)));
  });
}

describe('tap ADD, CHECK and DEL', () => {
  it('creates the tap in the container with the MTU, MAC and addresses asked for; a process attached to it gets the frames the kernel sends; CHECK passes', async () => {
    const cfg = conf({ mtu: 1400, mac: '02:83:00:00:00:05', dns: { nameservers: ['10.83.0.1'] } });
    const r = await run('ADD', ctr, cfg);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toEqual({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'tap0', mac: '02:83:00:00:00:05', sandbox: ctr.path }],
      ips: [
        { address: '10.83.0.2/24', gateway: '10.83.0.1', interface: 0 },
        { address: 'fd83::2/64', gateway: 'fd83::1', interface: 0 },
      ],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: { nameservers: ['10.83.0.1'] },
    });
    const link = tap();
    expect(link).toMatchObject({ mtu: 1400, address: '02:83:00:00:00:05' });
    expect(link.flags).toContain('UP');
    // `ip tuntap add` flags, as the reference's tap without both owner and group
    expect(link.linkinfo).toMatchObject({ info_kind: 'tun', info_data: { type: 'tap', pi: false, vnet_hdr: false, multi_queue: false, persist: true } });
    expect(globalAddresses()).toEqual(['10.83.0.2/24', 'fd83::2/64']);
    expect(ctr.ipJson<Array<{ dst: string; gateway?: string }>>('route', 'show')).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.83.0.1' }));
    expect(ctr.exec('sysctl', ['-n', 'net.ipv4.conf.tap0.arp_notify']).trim()).toBe('1');

    const { arp } = await attachReader();
    const ping = spawn('ip', ['netns', 'exec', ctr.name, 'ping', '-c2', '-W1', '10.83.0.9'], { stdio: 'ignore' });
    try {
      expect(await arp).toBe('arp who-has 10.83.0.9');
    } finally {
      ping.kill();
    }
    const check = await run('CHECK', ctr, { ...cfg, prevResult: r.json });
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });

  it('DEL removes the tap and the reservation, and is idempotent; also after the namespace is gone', async () => {
    expect((await run('ADD', ctr)).code).toBe(0);
    const del = await run('DEL', ctr);
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(linkNames()).toEqual(['lo']);
    expect(reservations()).toEqual([]);
    expect((await run('DEL', ctr)).code).toBe(0);

    const gone = pool.make('c');
    expect((await run('ADD', gone)).code).toBe(0);
    const path = gone.path;
    gone.destroy();
    expect((await run('DEL', path)).code).toBe(0);
    expect(reservations()).toEqual([]);
  });

  it('multiQueue with owner and group: the netlink flags of the reference (vnet_hdr, no pi), the ids, queues a multi-queue reader can attach to', async () => {
    const cfg = conf({ ipam: undefined, multiQueue: true, owner: 1000, group: 100 });
    const r = await run('ADD', ctr, cfg);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.ips).toBeUndefined();
    expect(tap().linkinfo?.info_data).toMatchObject({ type: 'tap', pi: false, vnet_hdr: true, multi_queue: true, persist: true });
    const details = ctr.exec('ip', ['-d', 'link', 'show', 'tap0']);
    expect(details).toMatch(/user \S+ group \S+/);
    expect((await run('CHECK', ctr, { ...cfg, prevResult: r.json })).code).toBe(0);
    expect((await run('CHECK', ctr, { ...cfg, owner: 1001, prevResult: r.json })).json).toMatchObject({ code: 140, msg: expect.stringContaining('user 1000, not 1001') });
    expect((await run('CHECK', ctr, { ...cfg, multiQueue: false, prevResult: r.json })).json).toMatchObject({ code: 140, msg: expect.stringContaining('multi-queue') });
    await attachReader(true);
    expect(tap().flags).toContain('LOWER_UP');
  });

  it('without IPAM the tap is up with no address; the mac capability wins over the config and CNI_ARGS', async () => {
    const cfg = conf({ ipam: undefined, mac: '02:83:00:00:00:01', runtimeConfig: { mac: '02:83:00:00:00:03' } });
    const r = await run('ADD', ctr, cfg, { cniArgs: 'MAC=02:83:00:00:00:02' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json).toEqual({ cniVersion: '1.0.0', interfaces: [{ name: 'tap0', mac: '02:83:00:00:00:03', sandbox: ctr.path }] });
    expect(tap().flags).toContain('UP');
    expect(globalAddresses()).toEqual([]);
  });

  it('makes the tap a port of a bridge in the container; a missing bridge is refused (7) before anything is made', async () => {
    expect((await run('ADD', ctr, conf({ bridge: 'br0' }))).json).toMatchObject({ code: 7, msg: expect.stringContaining('invalid field "bridge"') });
    expect(linkNames()).toEqual(['lo']);
    expect(reservations()).toEqual([]);
    ctr.exec('ip', ['link', 'add', 'br0', 'type', 'bridge']);
    const r = await run('ADD', ctr, conf({ bridge: 'br0', ipam: undefined }));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(tap().master).toBe('br0');
    expect((await run('CHECK', ctr, { ...conf({ bridge: 'br0', ipam: undefined }), prevResult: r.json })).code).toBe(0);
    ctr.exec('ip', ['link', 'set', 'tap0', 'nomaster']);
    expect((await run('CHECK', ctr, { ...conf({ bridge: 'br0', ipam: undefined }), prevResult: r.json })).json).toMatchObject({
      code: 140,
      msg: expect.stringContaining('not a port of bridge "br0"'),
    });
  });

  it('a failed ADD leaves nothing: a taken name before IPAM, a route that cannot be added after the tap and the reservation exist', async () => {
    const bad = conf();
    (bad.ipam.routes as object[]).push({ dst: '10.91.0.0/16', gw: '192.0.2.1' });
    const r = await run('ADD', ctr, bad);
    expect(r.code).not.toBe(0);
    expect(r.json.msg).toContain('10.91.0.0/16');
    expect(linkNames()).toEqual(['lo']);
    expect(reservations()).toEqual([]);
    ctr.exec('ip', ['link', 'add', 'tap0', 'type', 'bridge']);
    expect((await run('ADD', ctr)).json).toMatchObject({ code: 110, msg: expect.stringContaining('already exists') });
    expect(reservations()).toEqual([]);
    // and DEL leaves an interface of another kind that holds the name alone
    expect((await run('DEL', ctr)).code).toBe(0);
    expect(linkNames()).toContain('tap0');
  });

  it('CHECK tells a tun where a tap should be, and the addresses that went', async () => {
    const r = await run('ADD', ctr);
    const check = () => run('CHECK', ctr, { ...conf(), prevResult: r.json });
    ctr.exec('ip', ['addr', 'flush', 'dev', 'tap0', 'scope', 'global']);
    expect((await check()).json).toMatchObject({ code: 140, msg: expect.stringContaining('10.83.0.2/24') });
    ctr.exec('ip', ['link', 'del', 'tap0']);
    ctr.exec('ip', ['tuntap', 'add', 'tap0', 'mode', 'tun']);
    // a tun has neither addresses from ADD nor a MAC: only the device type is compared
    const bare = { ...r.json, interfaces: [{ name: 'tap0', sandbox: ctr.path }], ips: [], routes: [] };
    expect((await run('CHECK', ctr, { ...conf({ ipam: undefined }), prevResult: bare })).json).toMatchObject({ code: 140, msg: expect.stringContaining('not a tap') });
  });

  it('STATUS is ready; GC releases the addresses of attachments not in the valid list', async () => {
    expect((await run('ADD', ctr)).code).toBe(0);
    const v11 = { ...conf(), cniVersion: '1.1.0' };
    const env = { CNI_TS_STATE_DIR: join(dir, 'state') };
    expect((await execPlugin('tap', { command: 'STATUS', env, stdin: v11 })).code).toBe(0);
    const gc = (valid: object[]) => execPlugin('tap', { command: 'GC', env, stdin: { ...v11, 'cni.dev/valid-attachments': valid } });
    expect((await gc([{ containerID: 'tapctr', ifname: 'tap0' }])).code).toBe(0);
    expect(reservations()).toHaveLength(2);
    expect((await gc([])).code).toBe(0);
    expect(reservations()).toEqual([]);
  });
});
