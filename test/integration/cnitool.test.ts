import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { BIN_DIR } from '../helpers/exec-plugin';
import { cacheFiles as cacheFilesOf, hostVeths as hostVethsOf, ipamFiles as ipamFilesOf, runCnitool } from '../helpers/cnitool';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { UPLINK } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';

let dir: string;
let host: TestNetns;
let outside: TestNetns;
const pool = useNodeFixture('cnit-tool-', (node) => ({ dir, host, outside } = node));
/** A conflist as a user keeps in /etc/cni/net.d, with the store in the test's directory. */
const toolnet = () => ({
  cniVersion: '1.1.0',
  name: 'toolnet',
  plugins: [
    {
      type: 'bridge',
      bridge: 'cnitool0',
      isGateway: true,
      isDefaultGateway: true,
      ipMasq: true,
      hairpinMode: true,
      ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.46.0.0/24' }]] },
    },
    { type: 'portmap', capabilities: { portMappings: true } },
    { type: 'tuning', sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '2' }, dataDir: join(dir, 'tuning') },
  ],
});
beforeEach(() => {
  mkdirSync(join(dir, 'net.d'));
  const list = toolnet();
  // the file sorting first wins
  writeFileSync(join(dir, 'net.d', '10-toolnet.conflist'), JSON.stringify(list));
  writeFileSync(join(dir, 'net.d', '20-shadowed.conflist'), JSON.stringify({ ...list, plugins: [{ type: 'loopback' }] }));
  writeFileSync(join(dir, 'net.d', '05-other.conf'), JSON.stringify({ cniVersion: '1.0.0', name: 'lo-only', type: 'loopback' }));
});

const cnitool = (args: string[], env: Record<string, string> = {}, binDir?: string) => runCnitool(host, dir, args, env, binDir);

const CAP_ARGS = JSON.stringify({ portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
const ipamFiles = () => ipamFilesOf(join(dir, 'ipam'), 'toolnet');
const cacheFiles = () => cacheFilesOf(dir);
const hostVeths = () => hostVethsOf(host);

describe('cnitool', () => {
  it('add, check and del run the whole conflist with prevResult chaining, capabilities and the libcni cache', async () => {
    const ctr = pool.make('c');
    const add = cnitool(['add', 'toolnet', ctr.path], { CAP_ARGS });
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(add.json.ips[0].address).toMatch(/^10\.46\.0\.\d+\/24$/);
    expect(ctr.exec('sysctl', ['-n', 'net.ipv4.conf.eth0.rp_filter']).trim()).toBe('2');
    await serve(ctr, 'tcp', 80, 'ctr');
    expect(ask(outside, 'tcp', UPLINK.host4, 8080)).toBe(`ctr saw ${UPLINK.outside4}`);

    const [cacheFile] = cacheFiles();
    expect(cacheFile).toMatch(/^toolnet-cnitool-[0-9a-f]{20}-eth0$/);
    const cached = JSON.parse(readFileSync(join(dir, 'cache', 'results', cacheFile), 'utf8'));
    expect(cached).toMatchObject({ kind: 'cniCacheV1', networkName: 'toolnet', ifName: 'eth0', capabilityArgs: JSON.parse(CAP_ARGS), result: add.json });

    const check = cnitool(['check', 'toolnet', ctr.path]);
    expect(check.code, check.stdout + check.stderr).toBe(0);

    const del = cnitool(['del', 'toolnet', ctr.path]);
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(ask(outside, 'tcp', UPLINK.host4, 8080)).toBeUndefined();
    expect(hostVeths()).toEqual([]);
    expect(ipamFiles()).toEqual([]);
    expect(cacheFiles()).toEqual([]);
  });

  it('del works without a cache: every plugin cleans up from its own state', async () => {
    const ctr = pool.make('c');
    expect(cnitool(['add', 'toolnet', ctr.path], { CAP_ARGS }).code).toBe(0);
    rmSync(join(dir, 'cache'), { recursive: true });
    const del = cnitool(['del', 'toolnet', ctr.path]);
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(hostVeths()).toEqual([]);
    expect(ipamFiles()).toEqual([]);
    expect(host.exec('nft', ['list', 'map', 'inet', 'cni_ts', 'portmap4'])).not.toContain('8080');
  });

  it('gc removes an attachment that is not in the cache (the valid list) and keeps the others', async () => {
    const kept = pool.make('kept');
    const lost = pool.make('lost');
    expect(cnitool(['add', 'toolnet', kept.path]).code).toBe(0);
    expect(cnitool(['add', 'toolnet', lost.path], { CAP_ARGS }).code).toBe(0);
    expect(ipamFiles()).toHaveLength(2);
    const lostCache = cacheFiles().find((f) => JSON.parse(readFileSync(join(dir, 'cache', 'results', f), 'utf8')).netns === lost.path)!;
    unlinkSync(join(dir, 'cache', 'results', lostCache));
    const gc = cnitool(['gc', 'toolnet']);
    expect(gc.code, gc.stdout + gc.stderr).toBe(0);
    expect(ipamFiles()).toHaveLength(1);
    expect(host.exec('nft', ['list', 'map', 'inet', 'cni_ts', 'portmap4'])).not.toContain('8080');
    expect(cnitool(['check', 'toolnet', kept.path]).code).toBe(0);
    const status = cnitool(['status', 'toolnet']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
  });

  it("-i/--ifname names the interface, before or after the verb; the container id is the reference cnitool's", async () => {
    const ctr = pool.make('c');
    const add = cnitool(['-i', 'net1', 'add', 'toolnet', ctr.path]);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(add.json.interfaces.find((i: { sandbox?: string }) => i.sandbox).name).toBe('net1');
    expect(ctr.exec('sysctl', ['-n', 'net.ipv4.conf.net1.rp_filter']).trim()).toBe('2');
    const id = `cnitool-${createHash('sha512').update(ctr.path).digest('hex').slice(0, 20)}`;
    expect(cacheFiles()).toEqual([`toolnet-${id}-net1`]);
    expect(cnitool(['check', '--ifname=net1', 'toolnet', ctr.path]).code).toBe(0);
    expect(cnitool(['check', 'toolnet', ctr.path]).code).not.toBe(0);
    const del = cnitool(['del', 'toolnet', ctr.path, '--ifname', 'net1']);
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(cacheFiles()).toEqual([]);
    expect(hostVeths()).toEqual([]);
    expect(cnitool(['add', 'toolnet', ctr.path, '-i']).json).toMatchObject({ code: 4, msg: expect.stringContaining('-i needs an interface name') });
  });

  it("disableCheck and disableGC (libcni's): CHECK and GC do nothing; plugins from <net.d>/<network>/*.conf join the list", async () => {
    const ctr = pool.make('c');
    const { plugins, ...rest } = toolnet();
    writeFileSync(join(dir, 'net.d', '11-quiet.conflist'), JSON.stringify({ ...rest, name: 'quiet', disableCheck: true, disableGC: 'true', plugins: [plugins[0]] }));
    mkdirSync(join(dir, 'net.d', 'quiet'));
    writeFileSync(join(dir, 'net.d', 'quiet', '20-tuning.conf'), JSON.stringify(plugins[2]));
    writeFileSync(join(dir, 'net.d', 'quiet', '10-portmap.conf'), JSON.stringify(plugins[1]));

    const add = cnitool(['add', 'quiet', ctr.path], { CAP_ARGS });
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(ctr.exec('sysctl', ['-n', 'net.ipv4.conf.eth0.rp_filter']).trim()).toBe('2');
    expect(host.exec('nft', ['list', 'map', 'inet', 'cni_ts', 'portmap4'])).toContain('8080');
    // CHECK of a container that was never added passes: no plugin runs
    expect(cnitool(['check', 'quiet', pool.make('never').path]).code).toBe(0);
    expect(cnitool(['check', 'toolnet', pool.make('never2').path]).code).not.toBe(0);
    // GC with no cache (nothing valid) keeps the attachment
    rmSync(join(dir, 'cache'), { recursive: true });
    expect(cnitool(['gc', 'quiet']).code).toBe(0);
    expect(ipamFilesOf(join(dir, 'ipam'), 'quiet')).toHaveLength(1);
    expect(host.exec('nft', ['list', 'map', 'inet', 'cni_ts', 'portmap4'])).toContain('8080');
    expect(cnitool(['del', 'quiet', ctr.path], { CAP_ARGS }).code).toBe(0);
    expect(ipamFilesOf(join(dir, 'ipam'), 'quiet')).toEqual([]);
    expect(host.exec('nft', ['list', 'map', 'inet', 'cni_ts', 'portmap4'])).not.toContain('8080');
  });

  it('finds single-plugin .conf files, and reports errors as CNI error objects', () => {
    const ctr = pool.make('c');
    const lo = cnitool(['add', 'lo-only', ctr.path]);
    expect(lo.code, lo.stdout + lo.stderr).toBe(0);
    expect(lo.json.interfaces[0].name).toBe('lo');
    expect(cnitool(['add', 'nosuchnet', ctr.path]).json).toMatchObject({ code: 7, msg: expect.stringContaining('nosuchnet') });
    expect(cnitool(['add', 'toolnet']).json).toMatchObject({ code: 4, msg: expect.stringContaining('usage') });
    expect(cnitool(['add', 'toolnet', ctr.path], { CAP_ARGS: '[1' }).json).toMatchObject({ code: 4, msg: expect.stringContaining('CAP_ARGS') });
  });
});

describe('scripts/install.sh', () => {
  it("installs into a plugin directory of the user's choice that works from anywhere, cnitool finding its plugins beside itself", async () => {
    const target = join(dir, 'opt', 'cni', 'bin');
    // lib and unit directories in the test's directory too, never the machine's /usr/lib/cni-ts or systemd
    const env = { ...process.env, CNI_TS_LIB_DIR: join(dir, 'usr', 'lib', 'cni-ts'), CNI_TS_UNIT_DIR: join(dir, 'units'), CNI_TS_SKIP_BUILD: '1' };
    const install = spawnSync('bash', [join(__dirname, '..', '..', 'scripts', 'install.sh'), target], { encoding: 'utf8', env });
    expect(install.status, install.stdout + install.stderr).toBe(0);
    expect(readdirSync(target).sort()).toEqual(readdirSync(BIN_DIR).sort());
    const ctr = pool.make('c');
    const add = cnitool(['add', 'toolnet', ctr.path], { CAP_ARGS }, target);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    await serve(ctr, 'tcp', 80, 'ctr');
    expect(ask(outside, 'tcp', UPLINK.host4, 8080)).toBe(`ctr saw ${UPLINK.outside4}`);
    expect(cnitool(['del', 'toolnet', ctr.path], {}, target).code).toBe(0);
    expect(hostVeths()).toEqual([]);
  });
});
