import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN_DIR } from './exec-plugin';
import type { TestNetns } from './netns';

const ROOT = join(BIN_DIR, '..');
/** accept4's number: a worker blocked in it is idle. */
const ACCEPT4 = process.arch === 'arm64' ? 242 : 288;

export interface WorkerCall {
  code: number | null;
  stdout: string;
  stderr: string;
  json: any;
  /** How the plugin ran: "worker", or "snapshot"/"bundle" when the client fell back. */
  startedFrom?: string;
}

/**
 * A node's host namespace with one mount namespace that lasts (the one `ip netns exec` makes, with
 * that namespace's /sys), so the supervisor and the clients share it, as on a real host where both
 * run in the root namespaces; a worker refuses clients from any other mount namespace.
 */
export class WorkerHost {
  private readonly holder: ChildProcess;
  private supervisor?: ChildProcess;

  constructor(
    readonly host: TestNetns,
    readonly socket: string,
  ) {
    this.holder = spawn('ip', ['netns', 'exec', host.name, 'sleep', 'infinity'], { stdio: 'ignore' });
  }

  private get enter(): string[] {
    return ['-t', String(this.holder.pid), '-m', '-n'];
  }

  /** Starts `cni-ts workers` and waits until `pool` workers are idle. */
  async startSupervisor(pool: number): Promise<void> {
    this.supervisor = spawn('nsenter', [...this.enter, process.execPath, join(ROOT, 'dist', 'cni-ts.js'), 'workers', '--socket', this.socket, '--pool', String(pool)], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await this.waitForIdle(pool);
  }

  get supervisorPid(): number | undefined {
    return this.supervisor?.pid;
  }

  /** The supervisor's workers: [pid, idle] (idle: blocked in accept). */
  workers(): Array<{ pid: number; idle: boolean }> {
    const parent = this.supervisor?.pid;
    return readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .flatMap((p) => {
        try {
          const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          if (ppid !== parent || !readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('cni-ts-worker.js')) return [];
          return [{ pid: Number(p), idle: readFileSync(`/proc/${p}/syscall`, 'utf8').startsWith(`${ACCEPT4} `) }];
        } catch {
          return []; // gone meanwhile
        }
      });
  }

  async waitForIdle(count: number, timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.workers().filter((w) => w.idle).length < count) {
      if (Date.now() > end) throw new Error(`fewer than ${count} idle workers after ${timeoutMs} ms: ${JSON.stringify(this.workers())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  stopSupervisor(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.supervisor?.kill(signal);
    this.supervisor = undefined;
  }

  /** Runs bin/<plugin> (or `executable`) as a runtime on this host would, through the workers when they answer. */
  call(
    plugin: string,
    o: { command: string; stdin?: object; env?: Record<string, string>; executable?: string; wrap?: string[] },
  ): { done: Promise<WorkerCall>; child: ChildProcess } {
    const executable = o.executable ?? join(BIN_DIR, plugin);
    const child = spawn('nsenter', [...this.enter, ...(o.wrap ?? []), executable], {
      // a test that wants a worker must not fall back because another test file loads the machine past the client's 50 ms
      env: { PATH: process.env.PATH, CNI_COMMAND: o.command, CNI_PATH: BIN_DIR, CNI_TS_WORKERS_SOCKET: this.socket, CNI_TS_WORKERS_HELLO_MS: '2000', CNI_TS_TIMING: '1', ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(JSON.stringify(o.stdin ?? {}));
    const done = new Promise<WorkerCall>((resolve) =>
      child.on('close', (code) => {
        let json: unknown;
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
        const timing = stderr
          .split('\n')
          .filter((l) => l.startsWith('{"timing"'))
          .map((l) => JSON.parse(l).timing)[0];
        resolve({ code, stdout, stderr, json, startedFrom: timing?.startedFrom });
      }),
    );
    return { done, child };
  }

  /** A node script run on this host (its namespaces), with `args`; its stdout. */
  node(script: string, ...args: string[]): Promise<string> {
    const child = spawn('nsenter', [...this.enter, process.execPath, '-e', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    return new Promise((resolve) => child.on('close', () => resolve(out)));
  }

  destroy(): void {
    const workers = this.workers();
    this.stopSupervisor('SIGKILL');
    for (const w of workers) {
      try {
        process.kill(w.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    this.holder.kill('SIGKILL');
  }
}
