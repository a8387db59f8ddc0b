import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { unlinkIfExists, writeFileAtomic } from '../fs';
import { cpus, setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { activatedSocket } from '../start/activation';
import { childProcess } from '../start/builtins';
import { suiteRoot } from '../start/suite';
import { socketCalls } from '../ffi/unix-sockets';

export const DEFAULT_SOCKET = '/run/cni-ts/workers.sock';

export interface SupervisorOptions {
  socketPath: string;
  /** Idle workers kept ready. */
  pool: number;
  env: NodeJS.ProcessEnv;
  log(line: string): void;
}

const _SIGTERM = 15;

/** The niceness of a worker until it is ready for calls. */
export const STARTING_NICE = 19;

/** Two idle workers per core, at least two: a pod's chain is four calls in a row, a burst is several chains. */
export const defaultPool = (): number => Math.max(2, 2 * cpus().length);

/**
 * `cni-ts workers`: keeps `pool` workers (dist/cni-ts-worker.js) serving calls from one listening
 * socket, and starts a replacement whenever one exits (after its share of calls, or killed). The
 * socket is systemd's (socket activation) or made here: its directory, when made here, 0700, the socket 0600, a
 * stale one left by an unclean stop removed; a live supervisor on it is an error. Returns when
 * SIGTERM or SIGINT arrives: idle workers stop with it, busy ones finish their call.
 */
export async function supervise(o: SupervisorOptions): Promise<number> {
  const activated = activatedSocket(o.env);
  const listenFd = activated ?? ownSocket(o.socketPath);
  const script = join(suiteRoot(), 'dist', 'cni-ts-worker.js');
  const workers = new Set<ChildProcess>();
  const exits: number[] = [];
  let stopping = false;

  const start = (): void => {
    const child = childProcess().spawn(process.execPath, [script], { stdio: ['ignore', 'ignore', 'inherit', listenFd], env: { PATH: o.env.PATH } });
    workers.add(child);
    // a worker starting (a few hundred ms of CPU) must not slow the calls being served meanwhile: it takes
    // the CPU they leave, and waits for its call at normal priority again (see serveOneCall)
    if (child.pid) setPriority(child.pid, STARTING_NICE);
    child.on('exit', (code, signal) => {
      workers.delete(child);
      if (stopping) return;
      if (code !== 0) o.log(`worker ${child.pid} exited with ${signal ?? code}`);
      // a worker that cannot start (a broken install) must not make this a busy loop: the clients fall back meanwhile
      const now = Date.now();
      exits.push(now);
      while (exits.length && exits[0] < now - 10_000) exits.shift();
      setTimeout(start, exits.length > 10 * o.pool ? 1000 : 0);
    });
  };
  for (let i = 0; i < o.pool; i++) start();
  // tells a client that finds every worker busy that the socket is served: it waits for one (client.c)
  const pidfile = `${activated === undefined ? o.socketPath : socketCalls().boundPath(listenFd)}.pid`;
  writeFileAtomic(pidfile, `${process.pid}\n`);
  o.log(`serving on ${activated !== undefined ? 'the socket systemd passed' : o.socketPath} with ${o.pool} idle workers`);

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  stopping = true;
  unlinkIfExists(pidfile);
  if (activated === undefined) unlinkSync(o.socketPath);
  // idle workers die with this process (PR_SET_PDEATHSIG); a worker in the middle of a call finishes it, then exits
  return 0;
}

function ownSocket(path: string): number {
  const sys = socketCalls();
  // a directory made here is root's alone; one that exists (say /tmp) keeps its mode: the socket is 0600 anyway
  if (!existsSync(dirname(path))) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (existsSync(path)) {
    if (sys.answersAt(path)) throw new Error(`another supervisor serves ${path}`);
    unlinkSync(path);
  }
  const umask = process.umask(0o177);
  try {
    return sys.listenUnix(path, 128);
  } finally {
    process.umask(umask);
  }
}
