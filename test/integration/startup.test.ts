import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_DIR } from '../helpers/exec-plugin';
import { netnsPool } from '../helpers/netns';
import { until } from '../helpers/poll';
import { requireRoot } from '../helpers/root';
import { timingOf } from '../../scripts/timing-line.mjs';

/**
 * How a plugin starts without the warm workers (scripts/build.mjs, lib/start): the client execs the
 * launcher, which execs node on the plugin's bundle, all in the one process the runtime started.
 */
const ROOT = join(BIN_DIR, '..');
const pool = netnsPool();
let scratch: string;

beforeAll(() => {
  requireRoot();
  scratch = mkdtempSync(join(tmpdir(), 'cnit-startup-'));
});
afterAll(() => {
  pool.destroyAll();
  rmSync(scratch, { recursive: true, force: true });
});

interface Timing {
  startedFrom: string;
  verbMs?: number;
  maxRssBytes: number;
}

function run(launcher: string, command: string, stdin: object, env: Record<string, string> = {}) {
  const r = spawnSync(launcher, [], {
    input: JSON.stringify(stdin),
    encoding: 'utf8',
    env: { PATH: process.env.PATH, CNI_COMMAND: command, CNI_TS_TIMING: '1', ...env },
  });
  const lines = r.stderr.split('\n').filter(Boolean);
  const timing = timingOf(r.stderr) as Timing | undefined;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, timing, logLines: lines };
}

describe('start-up', () => {
  it('starts every executable from its bundle (workers off), within 60 MiB; the tools keep their arguments and find plugins beside them', () => {
    const ns = pool.make('lo');
    const add = run(
      join(ROOT, 'bin', 'loopback'),
      'ADD',
      { cniVersion: '1.1.0', name: 'lo', type: 'loopback' },
      { CNI_CONTAINERID: 'c', CNI_NETNS: ns.path, CNI_IFNAME: 'lo', CNI_PATH: BIN_DIR, CNI_TS_WORKERS: 'off' },
    );
    expect(add.status, add.stdout + add.stderr).toBe(0);
    expect(add.timing).toMatchObject({ startedFrom: 'bundle' });
    expect(add.timing!.maxRssBytes).toBeLessThan(60 * 1024 * 1024);
    expect(ns.ipJson<Array<{ flags: string[] }>>('link', 'show', 'lo')[0].flags).toContain('UP');
    const plugins = readdirSync(join(ROOT, 'bin')).filter((n) => !['cnitool', 'cni-ts', 'cni-ts-reapply'].includes(n));
    for (const name of plugins) {
      const version = run(join(ROOT, 'bin', name), 'VERSION', { cniVersion: '1.0.0' }, { CNI_TS_WORKERS: 'off' });
      expect(version.status, `${name}: ${version.stderr}`).toBe(0);
      expect(JSON.parse(version.stdout), name).toMatchObject({ cniVersion: '1.0.0' });
      expect(version.timing?.startedFrom, name).toBe('bundle');
    }
    // cnitool without CNI_PATH finds the plugins beside its own launcher
    const confDir = join(scratch, 'net.d');
    mkdirSync(confDir, { recursive: true });
    writeFileSync(join(confDir, 'lonet.conflist'), JSON.stringify({ cniVersion: '1.1.0', name: 'lonet', plugins: [{ type: 'loopback' }] }));
    const status = spawnSync(join(ROOT, 'bin', 'cnitool'), ['status', 'lonet'], { encoding: 'utf8', env: { PATH: process.env.PATH, NETCONFPATH: confDir, CNI_TS_WORKERS: 'off' } });
    expect(status.status, status.stdout + status.stderr).toBe(0);
  });

  it('is the process the runtime started (client, launcher and node one pid): an ADD killed by a runtime timeout does not go on afterwards', async () => {
    const dataDir = join(scratch, 'ipam');
    const store = join(dataDir, 'killed');
    mkdirSync(store, { recursive: true });
    // hold host-local's store lock so the ADD waits inside the plugin
    const holder = spawn('flock', [join(store, 'lock'), 'sleep', '60'], { stdio: 'ignore' });
    try {
      await until('the lock file', () => existsSync(join(store, 'lock')));
      const conf = { cniVersion: '1.1.0', name: 'killed', type: 'host-local', ipam: { type: 'host-local', dataDir, subnet: '10.77.0.0/24' } };
      const ns = pool.make('k');
      const plugin = spawn(join(ROOT, 'bin', 'host-local'), [], {
        env: { PATH: process.env.PATH, CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'k', CNI_NETNS: ns.path, CNI_IFNAME: 'eth0', CNI_PATH: BIN_DIR, CNI_TS_WORKERS: 'off' },
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      plugin.stdin.end(JSON.stringify(conf));
      await until('node on the bundle', () => readFileSync(`/proc/${plugin.pid}/cmdline`, 'utf8').includes('dist/host-local.js'));
      expect(childOf(plugin.pid!)).toBeUndefined();
      plugin.kill('SIGKILL');
      await until('the plugin to die', () => !alive(plugin.pid!));
    } finally {
      holder.kill('SIGKILL');
    }
    // with the lock free, nothing may reserve an address for the killed ADD
    await new Promise((r) => setTimeout(r, 500));
    expect(readdirSync(store).filter((f) => f.startsWith('10.'))).toEqual([]);
  });
});

function childOf(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return children ? Number(children.split(' ')[0]) : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
