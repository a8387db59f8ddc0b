import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { execPlugin, type PluginOutcome } from '../helpers/exec-plugin';
import { useDirFixture } from '../helpers/dir-fixture';
import type { TestNetns } from '../helpers/netns';

let dir: string;
let ctr: TestNetns;
const pool = useDirFixture('cnit-tune-', 'tune', (made, ns) => ((dir = made), (ctr = ns)));
beforeEach(() => {
  // the interface a main plugin would have created: a veth whose peer stays in a second namespace
  const peer = pool.make('peer');
  ctr.exec('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'p0', 'netns', peer.name]);
  ctr.exec('ip', ['link', 'set', 'eth0', 'up']);
});

const prevResult = () => ({ cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: ctr.path, mac: link().address }], ips: [{ address: '10.9.0.2/24', interface: 0 }] });
const conf = (extra: object, withPrev = true) => ({
  cniVersion: '1.0.0',
  name: 'tunenet',
  type: 'tuning',
  dataDir: join(dir, 'tuning'),
  ...(withPrev ? { prevResult: prevResult() } : {}),
  ...extra,
});
const run = (command: string, stdin: object) => execPlugin('tuning', { command, containerId: 'ctr1', netns: ctr.path, ifname: 'eth0', stdin });
const ok = (r: PluginOutcome) => expect(r.code, r.stdout + r.stderr).toBe(0);

type Link = { address: string; mtu: number; flags: string[]; txqlen: number; promiscuity: number };
const link = () => ctr.ipJson<Link[]>('-d', 'link', 'show', 'eth0')[0];
const sysctl = (key: string) => ctr.exec('sysctl', ['-n', key]).trim();

describe('tuning', () => {
  it('sets sysctls and link attributes, reports the new MAC, and DEL restores the attributes', async () => {
    const before = link();
    const tuning = {
      sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '2', 'net.core.somaxconn': '1234' },
      mtu: 1400,
      mac: 'c2:11:22:33:44:55',
      promisc: true,
      allmulti: true,
      txQLen: 2000,
    };
    const r = await run('ADD', conf(tuning));
    ok(r);
    expect(r.json.interfaces[0].mac).toBe('c2:11:22:33:44:55');
    const after = link();
    expect(after).toMatchObject({ mtu: 1400, address: 'c2:11:22:33:44:55', txqlen: 2000 });
    expect(after.flags).toContain('ALLMULTI');
    expect(after.promiscuity).toBeGreaterThan(0);
    expect(sysctl('net.ipv4.conf.eth0.rp_filter')).toBe('2');
    expect(sysctl('net.core.somaxconn')).toBe('1234');
    ok(await run('CHECK', conf(tuning)));

    ok(await run('DEL', conf(tuning)));
    const restored = link();
    expect(restored).toMatchObject({ mtu: before.mtu, address: before.address, txqlen: before.txqlen, promiscuity: 0 });
    expect(restored.flags).not.toContain('ALLMULTI');
    expect(readdirSync(join(dir, 'tuning'))).toEqual([]);
    ok(await run('DEL', conf(tuning)));
  });

  it('CHECK names what drifted', async () => {
    ok(await run('ADD', conf({ mtu: 1400, sysctl: { 'net.ipv4.conf.eth0.rp_filter': '2' } })));
    ctr.exec('ip', ['link', 'set', 'eth0', 'mtu', '1300']);
    const r = await run('CHECK', conf({ mtu: 1400, sysctl: { 'net.ipv4.conf.eth0.rp_filter': '2' } }));
    expect(r.json).toMatchObject({ code: 140, msg: expect.stringContaining('mtu is 1300, expected 1400') });
  });

  it('args.cni overrides per attachment and runtimeConfig.mac wins for the MAC', async () => {
    const r = await run('ADD', conf({ mtu: 1400, mac: 'c2:00:00:00:00:01', runtimeConfig: { mac: 'c2:00:00:00:00:02' }, args: { cni: { mtu: 1450 } } }));
    ok(r);
    expect(link()).toMatchObject({ mtu: 1450, address: 'c2:00:00:00:00:02' });
  });

  it.each([
    [{ 'kernel.hostname': 'x' }, 'sysctl["kernel.hostname"]', 'only net.*'],
    [{ 'net/../kernel/hostname': 'x' }, 'sysctl["net/../kernel/hostname"]', 'not a sysctl name'],
    [{ 'net.ipv4.no_such_thing': '1' }, 'sysctl["net.ipv4.no_such_thing"]', 'no such sysctl'],
  ])('refuses sysctl %j naming the field and changes nothing', async (sysctls, field, why) => {
    const before = link();
    const r = await run('ADD', conf({ sysctl: sysctls, mtu: 1400 }));
    expect(r.json).toMatchObject({ code: 7, msg: expect.stringContaining(field) });
    expect(r.json.msg).toContain(why);
    expect(link().mtu).toBe(before.mtu);
    expect(existsSync(join(dir, 'tuning')) ? readdirSync(join(dir, 'tuning')) : []).toEqual([]);
  });

  it('with a sysctl allowlist, a sysctl no line matches is refused (7) and nothing changes; a matching one, also from args.cni, is set', async () => {
    const allowlist = join(dir, 'allowlist.conf');
    writeFileSync(allowlist, '\n^net\\.ipv4\\.conf\\.IFNAME\\.rp_filter$\n  net.core.somaxconn  \n');
    const withAllowlist = (command: string, stdin: object) =>
      execPlugin('tuning', { command, containerId: 'ctr1', netns: ctr.path, ifname: 'eth0', stdin, env: { CNI_TS_TUNING_ALLOWLIST: allowlist } });
    const before = { rpFilter: sysctl('net.ipv4.conf.eth0.rp_filter'), mtu: link().mtu };

    const refused = await withAllowlist('ADD', conf({ mtu: 1400, sysctl: { 'net.core.somaxconn': '1234' }, args: { cni: { sysctl: { 'net.ipv4.conf.eth0.rp_filter': '2' } } } }));
    expect(refused.json).toMatchObject({ code: 7, msg: expect.stringContaining(`invalid field "sysctl["net.ipv4.conf.eth0.rp_filter"]": ${allowlist} does not allow it`) });
    expect({ rpFilter: sysctl('net.ipv4.conf.eth0.rp_filter'), mtu: link().mtu }).toEqual(before);
    expect(sysctl('net.core.somaxconn')).not.toBe('1234');

    ok(await withAllowlist('ADD', conf({ sysctl: { 'net.core.somaxconn': '1234' }, args: { cni: { sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '2' } } } })));
    expect(sysctl('net.core.somaxconn')).toBe('1234');
    expect(sysctl('net.ipv4.conf.eth0.rp_filter')).toBe('2');

    writeFileSync(allowlist, 'net.core.(\n');
    expect((await withAllowlist('ADD', conf({ sysctl: { 'net.core.somaxconn': '1' } }))).json).toMatchObject({ code: 7, msg: expect.stringContaining('not a regular expression') });
  });

  it('refuses to run unchained and refuses a bad MAC', async () => {
    expect((await run('ADD', conf({ mtu: 1400 }, false))).json).toMatchObject({ code: 7, msg: expect.stringContaining('prevResult') });
    expect((await run('ADD', conf({ mac: '01:00:00:00:00:01' }))).json).toMatchObject({ code: 7, msg: expect.stringContaining('"mac"') });
  });
});
