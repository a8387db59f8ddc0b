import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLUGINS, SNAPSHOT_GROUPS } from '../../scripts/plugins.mjs';
import { BIN_DIR } from '../helpers/exec-plugin';
import { netnsPool } from '../helpers/netns';
import { requireRoot } from '../helpers/root';

/**
 * How a plugin starts (scripts/build.mjs, lib/start): from the suite's V8 startup snapshot, from its
 * bundle when the running node cannot use the snapshot, and never outliving its launcher.
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
  // node's own refusal of a snapshot is a plain line; the plugins' log lines are JSON
  const timing = lines
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find((l) => l.timing)?.timing as Timing | undefined;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, timing, logLines: lines };
}

/** A copy of the suite (clients, launchers, bundles, node_modules) whose snapshot was built with another V8 configuration. */
function suiteWithForeignSnapshot(): string {
  const tree = join(scratch, 'foreign');
  mkdirSync(join(tree, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'bin'), join(tree, 'bin'), { recursive: true });
  // the plugins' launchers, which their compiled clients in bin/ run
  if (existsSync(join(ROOT, 'launch'))) cpSync(join(ROOT, 'launch'), join(tree, 'launch'), { recursive: true });
  for (const file of readdirSync(join(ROOT, 'dist')).filter((f) => f.endsWith('.js'))) cpSync(join(ROOT, 'dist', file), join(tree, 'dist', file));
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  cpSync(join(ROOT, 'package.json'), join(tree, 'package.json'));
  // --harmony changes V8's flag hash, as another Node.js release would: node refuses the blob with exit code 14
  for (const group of SNAPSHOT_GROUPS)
    execFileSync(process.execPath, ['--harmony', '--snapshot-blob', join(tree, 'dist', `suite-${group}.blob`), '--build-snapshot', join(tree, 'dist', `suite-${group}.js`)], {
      stdio: 'ignore',
    });
  return tree;
}

describe('start-up', () => {
  it('starts every executable from its snapshot, within 60 MiB', () => {
    for (const group of SNAPSHOT_GROUPS) expect(existsSync(join(ROOT, 'dist', `suite-${group}.blob`)), group).toBe(true);
    const ns = pool.make('lo');
    const add = run(
      join(ROOT, 'bin', 'loopback'),
      'ADD',
      { cniVersion: '1.1.0', name: 'lo', type: 'loopback' },
      { CNI_CONTAINERID: 'c', CNI_NETNS: ns.path, CNI_IFNAME: 'lo', CNI_PATH: BIN_DIR },
    );
    expect(add.status, add.stdout + add.stderr).toBe(0);
    expect(add.timing).toMatchObject({ startedFrom: 'snapshot' });
    expect(add.timing!.maxRssBytes).toBeLessThan(60 * 1024 * 1024);
    expect(add.logLines.filter((l) => l.includes('startup snapshot'))).toEqual([]);
    const plugins = readdirSync(join(ROOT, 'bin')).filter((n) => !['cnitool', 'cni-ts', 'cni-ts-reapply'].includes(n));
    for (const name of plugins) {
      const version = run(join(ROOT, 'bin', name), 'VERSION', { cniVersion: '1.0.0' });
      expect(version.status, `${name}: ${version.stderr}`).toBe(0);
      expect(JSON.parse(version.stdout), name).toMatchObject({ cniVersion: '1.0.0' });
      expect(version.timing?.startedFrom, name).toBe('snapshot');
    }
  });

  it("each snapshot holds its group's executables only, so a start deserialises no other group's code", () => {
    for (const { name, snapshot } of PLUGINS) {
      for (const group of SNAPSHOT_GROUPS) {
        const r = spawnSync(process.execPath, ['--snapshot-blob', join(ROOT, 'dist', `suite-${group}.blob`), ROOT, String(process.pid), name, join(ROOT, 'bin', name)], {
          input: '{"cniVersion":"1.0.0"}',
          encoding: 'utf8',
          env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION' },
        });
        const missing = `no executable named "${name}"`;
        if (group === snapshot) expect(r.stderr, `${name} from ${group}`).not.toContain(missing);
        else expect(r.stderr, `${name} from ${group}`).toContain(missing);
      }
    }
  });

  it('falls back to the bundle, and says so, when node cannot use the snapshot', () => {
    const tree = suiteWithForeignSnapshot();
    const launcher = join(tree, 'bin', 'loopback');
    const ns = pool.make('lo');
    const add = run(
      launcher,
      'ADD',
      { cniVersion: '1.1.0', name: 'lo', type: 'loopback' },
      { CNI_CONTAINERID: 'c', CNI_NETNS: ns.path, CNI_IFNAME: 'lo', CNI_PATH: join(tree, 'bin') },
    );
    expect(add.status, add.stdout + add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ cniVersion: '1.1.0', interfaces: [{ name: 'lo' }] });
    expect(add.timing).toMatchObject({ startedFrom: 'bundle' });
    expect(add.logLines.some((l) => l.includes('"level":"warn"') && l.includes('cannot use the startup snapshot'))).toBe(true);
    expect(add.logLines).toContainEqual(expect.stringMatching(/^Failed to load the startup snapshot/));
    expect(ns.ipJson<Array<{ flags: string[] }>>('link', 'show', 'lo')[0].flags).toContain('UP');
    // the tools keep their arguments and find plugins beside their launcher (cnitool without CNI_PATH)
    const confDir = join(scratch, 'net.d');
    mkdirSync(confDir, { recursive: true });
    writeFileSync(join(confDir, 'lonet.conflist'), JSON.stringify({ cniVersion: '1.1.0', name: 'lonet', plugins: [{ type: 'loopback' }] }));
    const status = spawnSync(join(tree, 'bin', 'cnitool'), ['status', 'lonet'], { encoding: 'utf8', env: { PATH: process.env.PATH, NETCONFPATH: confDir } });
    expect(status.status, status.stdout + status.stderr).toBe(0);
  });

  it('dies with its launcher: an ADD killed by a runtime timeout does not go on afterwards', async () => {
    const dataDir = join(scratch, 'ipam');
    const store = join(dataDir, 'killed');
    mkdirSync(store, { recursive: true });
    // hold host-local's store lock so the ADD waits inside the plugin
    const holder = spawn('flock', [join(store, 'lock'), 'sleep', '60'], { stdio: 'ignore' });
    try {
      await waitFor(() => existsSync(join(store, 'lock')));
      const conf = { cniVersion: '1.1.0', name: 'killed', type: 'host-local', ipam: { type: 'host-local', dataDir, subnet: '10.77.0.0/24' } };
      const ns = pool.make('k');
      const plugin = spawn(join(ROOT, 'bin', 'host-local'), [], {
        env: { PATH: process.env.PATH, CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'k', CNI_NETNS: ns.path, CNI_IFNAME: 'eth0', CNI_PATH: BIN_DIR },
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      plugin.stdin.end(JSON.stringify(conf));
      const node = await waitFor(() => childOf(plugin.pid!));
      await waitFor(() => readFileSync(`/proc/${node}/cmdline`, 'utf8').includes('--snapshot-blob'));
      plugin.kill('SIGKILL');
      await waitFor(() => !alive(node));
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

async function waitFor<T>(probe: () => T, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = probe();
    } catch {
      value = undefined;
    }
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${probe.toString()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
