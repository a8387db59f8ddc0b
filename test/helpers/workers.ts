import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN_DIR, which } from './paths';
import { spawnCollected, type PluginOutcome } from './spawn-collected';
import { onNetnsDelete } from './netns';
import { until, untilSync } from './poll';
import { timingOf } from '../../scripts/timing-line.mjs';
import { baseEnv } from './base-env';

const ROOT = join(BIN_DIR, '..');
/** accept4's number: a worker blocked in it is idle. */
const ACCEPT4 = process.arch === 'arm64' ? 242 : 288;

/**
 * The suite runs every plugin call through the warm workers (a supervisor in the caller's
 * namespaces) unless CNI_TS_TEST_WORKERS=off, which runs them as Node.js processes (the fallback).
 */
export const TEST_WORKERS = process.env.CNI_TS_TEST_WORKERS !== 'off';

export interface WorkerCall extends PluginOutcome {
  /** How the plugin ran: "worker", or "bundle" when the client fell back (CNI_TS_TIMING). */
  startedFrom?: string;
}

/** By path: a test may run a plugin with a PATH of its own. */
const NSENTER = which('nsenter');
/** Children that must not outlive the test process, whatever ends it. */
const dieWithMe = ['setpriv', '--pdeathsig', 'KILL'];

/**
 * Where a runtime's commands run in a test: a node's host namespace with one mount namespace that
 * lasts (the one `ip netns exec` makes, with that namespace's /sys), or the machine's own
 * namespaces (`netns` undefined), and optionally `cni-ts workers` serving there on `socket`. A
 * worker refuses clients of other namespaces, so the supervisor and the clients share them, as on
 * a real host where both run in the root namespaces.
 */
export class WorkerHost {
  private readonly holder?: ChildProcess;
  private supervisor?: ChildProcess;

  /**
   * `netns`: a named netns (with the mount namespace `ip netns exec` makes), a netns path entered
   * alone (the machine's mount namespace: Podman's host), or undefined (the machine's namespaces).
   */
  constructor(
    readonly netns: { name: string } | { path: string } | undefined,
    readonly socket: string,
  ) {
    if (netns && 'name' in netns) {
      this.holder = spawn(dieWithMe[0], [...dieWithMe.slice(1), 'ip', 'netns', 'exec', netns.name, 'sleep', 'infinity'], { stdio: 'ignore' });
      // until it is sleep, the holder is setpriv or ip, still in (or on its way out of) the machine's namespaces
      untilSync(`the holder of ${netns.name}`, () => command(this.holder!.pid!) === 'sleep', 10_000);
    }
  }

  /** The command line prefix that runs a command in this host's namespaces. */
  get prefix(): string[] {
    if (this.holder) return [NSENTER, '-t', String(this.holder.pid), '-m', '-n'];
    return this.netns && 'path' in this.netns ? [NSENTER, `--net=${this.netns.path}`] : [];
  }

  /** What a runtime's commands on this host need in their environment to find the workers. */
  get env(): Record<string, string> {
    // a call must not fall back because other test files load the machine past the client's 50 ms
    return { CNI_TS_WORKERS_SOCKET: this.socket, CNI_TS_WORKERS_HELLO_MS: '10000' };
  }

  private spawnSupervisor(pool: number): void {
    const command = [...dieWithMe, ...this.prefix, process.execPath, join(ROOT, 'dist', 'cni-ts.js'), 'workers', '--socket', this.socket, '--pool', String(pool)];
    this.supervisor = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  }

  /** Starts `cni-ts workers` and waits until `pool` workers are idle. */
  async startSupervisor(pool: number): Promise<void> {
    this.spawnSupervisor(pool);
    await this.waitForIdle(pool);
  }

  /** startSupervisor for synchronous callers. */
  startSupervisorSync(pool: number): void {
    this.spawnSupervisor(pool);
    untilSync(`${pool} idle workers at ${this.socket}`, () => this.idle() >= pool, 30_000);
  }

  /** The supervisor's pid (setpriv and nsenter exec what follows them, in the same process). */
  get supervisorPid(): number | undefined {
    return this.supervisor?.pid;
  }

  /** The supervisor's workers: [pid, idle] (idle: blocked in accept). */
  workers(): Array<{ pid: number; idle: boolean }> {
    const parent = this.supervisorPid;
    if (parent === undefined) return [];
    return childrenOf(parent).flatMap((pid) => {
      try {
        if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cni-ts-worker.js')) return [];
        return [{ pid, idle: readFileSync(`/proc/${pid}/syscall`, 'utf8').startsWith(`${ACCEPT4} `) }];
      } catch {
        return []; // gone meanwhile
      }
    });
  }

  private idle(): number {
    return this.workers().filter((w) => w.idle).length;
  }

  async waitForIdle(count: number, timeoutMs = 15_000): Promise<void> {
    await until(`${count} idle workers at ${this.socket}`, () => this.idle() >= count, timeoutMs, { output: () => JSON.stringify(this.workers()) });
  }

  stopSupervisor(signal: NodeJS.Signals = 'SIGTERM'): void {
    const pid = this.supervisorPid;
    if (pid !== undefined) kill(pid, signal);
    this.supervisor = undefined;
  }

  /** Runs bin/<plugin> (or `executable`) as a runtime on this host would, through the workers when they answer. */
  call(
    plugin: string,
    o: { command: string; stdin?: object; env?: Record<string, string>; executable?: string; wrap?: string[] },
  ): { done: Promise<WorkerCall>; child: ChildProcess } {
    const command = [...this.prefix, ...(o.wrap ?? []), o.executable ?? join(BIN_DIR, plugin)];
    const env = { ...baseEnv(), CNI_COMMAND: o.command, CNI_PATH: BIN_DIR, ...this.env, CNI_TS_TIMING: '1', CNI_TS_WORKERS_HELLO_MS: '2000', ...o.env };
    const { done, child } = spawnCollected(command, env, JSON.stringify(o.stdin ?? {}));
    return { done: done.then((r) => ({ ...r, startedFrom: startedFrom(r.stderr) })), child };
  }

  /** A node script run on this host (its namespaces), with `args`; its stdout. */
  node(script: string, ...args: string[]): Promise<string> {
    const command = [...this.prefix, process.execPath, '-e', script, ...args];
    const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    return new Promise((resolve) => child.on('close', () => resolve(out)));
  }

  destroy(): void {
    const workers = this.workers();
    this.stopSupervisor('SIGKILL');
    for (const w of workers) kill(w.pid, 'SIGKILL');
    this.holder?.kill('SIGKILL');
  }
}

/**
 * How the plugin ran, from its CNI_TS_TIMING lines (on stderr, or in the file it names): the last
 * one is the plugin's own (an exec'd delegate's comes first); a line a killed call left half
 * written is no verdict.
 */
export const startedFrom = (text: string): string | undefined => timingOf(text)?.startedFrom;

function command(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

let socketDir: string | undefined;
let sockets = 0;
const hosts = new Map<string, WorkerHost>();

/**
 * The shared host of netns `name` (undefined: the machine's namespaces) for a test process's
 * plugin calls, with a small pool of workers started on first use and stopped when the namespace
 * is deleted. The machine's namespaces use the suite's one supervisor (test/helpers/build-once.ts).
 * `netOnly`: the netns entered alone, in the machine's mount namespace (Podman's host).
 */
export function sharedHost(name: string | undefined, netOnly = false): WorkerHost {
  const key = `${name ?? ''}${netOnly ? ' net' : ''}`;
  let host = hosts.get(key);
  if (host) return host;
  if (name === undefined) {
    const socket = process.env.CNI_TS_TEST_ROOT_WORKERS;
    if (!socket) throw new Error('no CNI_TS_TEST_ROOT_WORKERS: the suite starts that supervisor in its global set-up');
    host = new WorkerHost(undefined, socket);
  } else {
    socketDir ??= mkdtempSync(join(tmpdir(), 'cnit-wk-'));
    host = new WorkerHost(netOnly ? { path: `/run/netns/${name}` } : { name }, join(socketDir, `${++sockets}.sock`));
    // two: a plugin's call may wait on a delegate's
    host.startSupervisorSync(2);
    onNetnsDelete(name, () => {
      hosts.get(key)?.destroy();
      hosts.delete(key);
    });
  }
  hosts.set(key, host);
  return host;
}

process.on('exit', () => {
  for (const host of hosts.values()) host.destroy();
  if (socketDir) rmSync(socketDir, { recursive: true, force: true });
});
