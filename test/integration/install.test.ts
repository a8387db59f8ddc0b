import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execPlugin } from '../helpers/exec-plugin';
import { INSTALL_SH, installTree, PLUGIN_NAMES, runInstall, type InstallTree } from '../helpers/install-tree';
import { netnsPool } from '../helpers/netns';
import { requireRoot } from '../helpers/root';

let dir: string;
let tree: InstallTree;
const pool = netnsPool();
beforeAll(requireRoot);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cnit-install-'));
  tree = installTree(dir);
});
afterEach(() => {
  pool.destroyAll();
  rmSync(dir, { recursive: true, force: true });
});

const ok = (r: { code: number | null; stdout: string; stderr: string }) => expect(r.code, r.stdout + r.stderr).toBe(0);
const sorted = (xs: string[]) => [...xs].sort();
const ls = (path: string) => (existsSync(path) ? sorted(readdirSync(path)) : []);
const current = () => readlinkSync(join(tree.lib, 'current'));
const versions = () => ls(tree.lib).filter((n) => /^\d+\.\d+\.\d+-/.test(n));

/** The manifest as key → values. */
function manifest(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of readFileSync(join(tree.lib, 'manifest'), 'utf8').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [key, value] = line.split('\t');
    (out[key] ??= []).push(value);
  }
  return out;
}

/** A directory of stand-in commands (a shell script each) to put first in a PATH. */
function fakeBin(name: string, scripts: Record<string, string>): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  for (const [command, body] of Object.entries(scripts)) {
    writeFileSync(join(path, command), `#!/bin/sh\n${body}\n`);
    chmodSync(join(path, command), 0o755);
  }
  return path;
}

describe('scripts/install.sh', () => {
  it('installs the run-time tree into a versioned directory, links every plugin through `current`, runs a plugin from there; --uninstall removes exactly that', async () => {
    ok(runInstall(tree));

    // the plugin directory: one link per executable of scripts/plugins.mjs, each through `current`
    expect(ls(tree.bin)).toEqual(sorted(PLUGIN_NAMES));
    for (const name of PLUGIN_NAMES) expect(readlinkSync(join(tree.bin, name))).toBe(join(tree.lib, 'current', 'bin', name));
    const version = current();
    expect(version).toMatch(/^\d+\.\d+\.\d+-([0-9a-f]{12}(\.dirty)?|nogit)-\d{8}T\d{6}Z$/);
    expect(ls(tree.lib)).toEqual(sorted(['.lock', version, 'current', 'manifest']));
    expect(realpathSync(join(tree.bin, 'bridge'))).toBe(join(tree.lib, version, 'bin', 'bridge'));

    // only what runs: launchers, bundles, the production modules (no build or test tools)
    const root = join(tree.lib, version);
    expect(ls(root)).toEqual(['bin', 'dist', 'launch', 'libexec', 'node_modules', 'package-lock.json', 'package.json']);
    expect(ls(join(root, 'bin'))).toEqual(sorted(PLUGIN_NAMES));
    expect(ls(join(root, 'libexec'))).toEqual(['cni-ts-firewalld-reload']);
    const modules = ls(join(root, 'node_modules'));
    expect(modules).toEqual(expect.arrayContaining(['koffi', 'netlink']));
    for (const dev of ['vitest', 'esbuild', 'typescript', '@types', 'vite']) expect(modules).not.toContain(dev);

    // the units name this lib dir
    expect(ls(tree.units)).toEqual([
      'cni-ts-dhcp.service',
      'cni-ts-dhcp.socket',
      'cni-ts-firewalld-reload.service',
      'cni-ts-nftables-reload.service',
      'cni-ts-workers.service',
      'cni-ts-workers.socket',
    ]);
    const nftUnit = readFileSync(join(tree.units, 'cni-ts-nftables-reload.service'), 'utf8');
    expect(nftUnit).toContain(`ExecStart=${tree.lib}/current/bin/cni-ts-reapply\n`);
    expect(nftUnit).not.toContain('@LIBDIR@');

    expect(manifest()).toEqual({
      version: [version],
      keep: [version],
      bin_dir: [tree.bin],
      unit_dir: [tree.units],
      link: PLUGIN_NAMES,
      unit: ['cni-ts-nftables-reload.service', 'cni-ts-firewalld-reload.service', 'cni-ts-dhcp.socket', 'cni-ts-dhcp.service', 'cni-ts-workers.socket', 'cni-ts-workers.service'],
    });

    // a plugin runs from the plugin directory, its modules resolved in the installed tree
    const version_ = spawnSync(join(tree.bin, 'bridge'), { encoding: 'utf8', env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION' } });
    expect(JSON.parse(version_.stdout)).toMatchObject({ cniVersion: '1.1.0' });
    const ns = pool.make('inst');
    const add = await execPlugin(join(tree.bin, 'loopback'), {
      command: 'ADD',
      containerId: 'c1',
      netns: ns.path,
      ifname: 'lo',
      path: tree.bin,
      stdin: { cniVersion: '1.0.0', name: 'lo', type: 'loopback' },
    });
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(ns.ipJson<Array<{ flags: string[] }>>('link', 'show', 'lo')[0].flags).toContain('UP');

    const removed = runInstall(tree, ['--uninstall']);
    ok(removed);
    expect(existsSync(tree.lib)).toBe(false);
    expect(ls(tree.bin)).toEqual([]);
    expect(ls(tree.units)).toEqual([]);
  });

  it('an upgrade switches `current` in one rename: no plugin link points at nothing meanwhile; the previous version stays, older ones go', async () => {
    ok(runInstall(tree));
    const first = current();
    // a tight loop that reports any link of the plugin directory that does not resolve
    const watcher = spawn(
      'bash',
      ['-c', 'n=0; while :; do for f in "$1"/*; do [ -e "$f" ] || echo "dangling $f"; done; n=$((n+1)); [ $((n % 50)) -ne 0 ] || echo "checked $n"; done', '_', tree.bin],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let seen = '';
    watcher.stdout.on('data', (c) => (seen += c));
    try {
      ok(runInstall(tree));
      const second = current();
      expect(second).not.toBe(first);
      expect(versions()).toEqual(sorted([first, second]));
      expect(manifest().keep).toEqual([second, first]);
      ok(runInstall(tree));
      const third = current();
      expect(versions()).toEqual(sorted([second, third]));
      expect(manifest().keep).toEqual([third, second]);
    } finally {
      watcher.kill('SIGKILL');
    }
    await new Promise((resolve) => watcher.once('close', resolve));
    expect(seen).not.toContain('dangling');
    expect(seen).toMatch(/checked \d+/);
    expect(ls(tree.lib).filter((n) => n.startsWith('.staging'))).toEqual([]);
  });

  it("refuses to replace another suite's plugin; with --force it keeps a copy that --uninstall puts back", () => {
    mkdirSync(tree.bin, { recursive: true });
    writeFileSync(join(tree.bin, 'bridge'), 'the reference bridge\n', { mode: 0o750 });
    symlinkSync('/usr/lib/cni/portmap', join(tree.bin, 'portmap'));
    writeFileSync(join(tree.bin, 'flannel'), 'not a name of ours\n');
    const before = ls(tree.bin);

    const refused = runInstall(tree);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('not replacing what is not ours');
    expect(refused.stderr).toContain('bridge portmap');
    expect(refused.stderr).toContain('--force');
    expect(ls(tree.bin)).toEqual(before);
    expect(existsSync(tree.lib)).toBe(false);
    expect(existsSync(tree.units)).toBe(false);

    ok(runInstall(tree, ['--force']));
    expect(readlinkSync(join(tree.bin, 'bridge'))).toBe(join(tree.lib, 'current', 'bin', 'bridge'));
    expect(readFileSync(join(tree.lib, 'backup', 'bridge'), 'utf8')).toBe('the reference bridge\n');
    expect(readlinkSync(join(tree.lib, 'backup', 'portmap'))).toBe('/usr/lib/cni/portmap');
    expect(manifest().backup).toEqual(['bridge', 'portmap']);
    // an upgrade needs no --force: the names are ours now, and the copies stay recorded
    ok(runInstall(tree));
    expect(manifest().backup).toEqual(['bridge', 'portmap']);

    ok(runInstall(tree, ['--uninstall', tree.bin]));
    expect(ls(tree.bin)).toEqual(before);
    expect(readFileSync(join(tree.bin, 'bridge'), 'utf8')).toBe('the reference bridge\n');
    expect(statSync(join(tree.bin, 'bridge')).mode & 0o777).toBe(0o750);
    expect(readlinkSync(join(tree.bin, 'portmap'))).toBe('/usr/lib/cni/portmap');
    expect(readFileSync(join(tree.bin, 'flannel'), 'utf8')).toBe('not a name of ours\n');
    expect(existsSync(tree.lib)).toBe(false);
  });

  it('needs Node.js >= 20 in the PATH runtimes run plugins with, and says so before touching anything', () => {
    const old = fakeBin('old-node', { node: 'echo 18.19.0' });
    const r = runInstall(tree, [], { CNI_TS_SYSTEM_PATH: old });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`Node.js >= 20 is needed: ${old}/node is 18.19.0`);
    const none = runInstall(tree, [], { CNI_TS_SYSTEM_PATH: fakeBin('no-node', {}) });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('Node.js >= 20 is needed and there is no node in');
    expect([existsSync(tree.lib), existsSync(tree.bin), existsSync(tree.units)]).toEqual([false, false, false]);
  });

  it('apt-installs only libnftables1 and dnsmasq-base, and only when missing; never the test set-up', () => {
    const log = join(dir, 'apt.log');
    const missing = fakeBin('apt-missing', { 'dpkg-query': 'exit 1', 'apt-get': `echo "$*" >> ${log}` });
    ok(runInstall(tree, [], { PATH: `${missing}:${process.env.PATH}` }));
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['update -qq', 'install -y -qq --no-install-recommends libnftables1 dnsmasq-base']);

    rmSync(log);
    const present = fakeBin('apt-present', { 'dpkg-query': "printf 'install ok installed'", 'apt-get': `echo "$*" >> ${log}` });
    ok(runInstall(tree, [], { PATH: `${present}:${process.env.PATH}` }));
    expect(existsSync(log)).toBe(false);
    // no command line of the script runs the developer's set-up (Podman, runc, busybox, reference plugins)
    const commands = readFileSync(INSTALL_SH, 'utf8')
      .split('\n')
      .filter((l) => !/^\s*#/.test(l));
    expect(commands.filter((l) => /setup\.sh|podman|runc|busybox|containernetworking/.test(l))).toEqual([]);
  });

  it('a failed upgrade keeps the running version; a failed install leaves only what --uninstall removes', () => {
    const noNpm = fakeBin('no-npm', { npm: 'echo "npm: no registry" >&2; exit 1' });
    const failing = { PATH: `${noNpm}:${process.env.PATH}` };

    const first = runInstall(tree, [], failing);
    expect(first.code).not.toBe(0);
    expect(first.stderr).toContain('npm: no registry');
    expect(ls(tree.lib).filter((n) => n.startsWith('.staging'))).toEqual([]);
    ok(runInstall(tree, ['--uninstall']));
    expect(existsSync(tree.lib)).toBe(false);
    expect(ls(tree.bin)).toEqual([]);

    ok(runInstall(tree));
    const running = current();
    expect(runInstall(tree, [], failing).code).not.toBe(0);
    expect(current()).toBe(running);
    expect(versions()).toEqual([running]);
    for (const name of PLUGIN_NAMES) expect(existsSync(join(tree.bin, name)), name).toBe(true);
    ok(runInstall(tree, ['--uninstall']));
    expect(existsSync(tree.lib)).toBe(false);
    expect(ls(tree.bin)).toEqual([]);
  });

  it("leaves alone a lib directory it did not install (the Debian package's), and has nothing to uninstall there", () => {
    mkdirSync(join(tree.lib, '0.1.0'), { recursive: true });
    symlinkSync('0.1.0', join(tree.lib, 'current'));
    const r = runInstall(tree);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('was not installed by this script');
    expect(ls(tree.lib)).toEqual(['0.1.0', 'current']);
    const u = runInstall(tree, ['--uninstall']);
    expect(u.code).not.toBe(0);
    expect(u.stderr).toContain('nothing to uninstall');
    expect(lstatSync(join(tree.lib, 'current')).isSymbolicLink()).toBe(true);
  });
});
