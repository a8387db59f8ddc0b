import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { libc, PR_SET_PDEATHSIG } from '../ffi/libc';
import { forgetDelegates } from '../invoke/delegate';
import { noteStartMode, suiteRoot } from '../start/suite';
import { bodyLength, errorLine, exitLine, FALLBACK_LINE, FrameError, HEADER_BYTES, helloLine, parseBody, REFUSED_LINE, type WorkerRequest } from './protocol';
import { socketCalls, type SocketCalls } from '../ffi/unix-sockets';
import type { PluginMain } from '../skel/define';

/** Every plugin a worker serves: its name (the bin/ name) and its main, which returns the exit code. */
export type Mains = Record<string, PluginMain>;

/** A client that connected but sends nothing is dropped after this, and the worker takes the next one. */
const REQUEST_TIMEOUT_MS = 2000;
/** A worker is replaced after this many calls, or once its resident memory passes RECYCLE_RSS_BYTES. */
export const MAX_CALLS = 200;
const RECYCLE_RSS_BYTES = 160 * 1024 * 1024;
const SIGTERM = 15;

interface Accepted extends WorkerRequest {
  conn: number;
  /** The client's stdin, stdout and stderr. */
  stdio: [number, number, number];
}

/**
 * A warm worker: started ahead of time with every plugin's code loaded, it waits in accept() on
 * the supervisor's listening socket (fd `listenFd`) and serves calls one at a time, each the way a
 * process started by the runtime would run it (the client's stdin, stdout and stderr as its own,
 * its environment, working directory and umask, the same code, locks and state), then puts its own
 * back. It exits after MAX_CALLS calls, past RECYCLE_RSS_BYTES, or after a call whose code threw,
 * and the supervisor replaces it. A connection it cannot serve (another user or namespace, a
 * malformed frame, a type it does not have) is answered and dropped.
 */
export async function serveCalls(listenFd: number, mains: Mains, buildId: string): Promise<never> {
  const sys = socketCalls();
  const own = { env: { ...process.env }, cwd: process.cwd(), umask: process.umask(), argv: [...process.argv], supervisor: process.ppid };
  // no process a call starts (nft, iptables-restore, an exec'd delegate) may keep the listening socket open
  sys.closeOnExec(listenFd);
  // the journal (the supervisor's stderr), kept for notes once descriptor 2 was a client's
  journal = sys.dupCloseOnExec(2);
  // started at the lowest priority so as not to slow the calls served meanwhile; ready, it waits at the
  // normal one, so that its hello is not late on a busy host. Niceness is per thread on Linux: every
  // thread made meanwhile (V8's, libuv's pool) gets it back too
  for (const tid of readdirSync('/proc/self/task')) setPriority(Number(tid), 0);
  // process.stderr, once a call's code touches it (a log line), is a handle for the worker's life, on
  // whatever descriptor 2 is: made now, it is part of what an idle worker holds, not something a call left
  void process.stderr;
  const idle = process.getActiveResourcesInfo();
  for (let served = 1; ; served++) {
    let accepted: Accepted | undefined;
    while (!accepted) {
      const conn = sys.accept(listenFd);
      try {
        accepted = receive(sys, conn, mains, buildId);
      } catch (err) {
        note(`dropped a connection: ${(err as Error).message}`);
        if (err instanceof FrameError) answer(conn, errorLine(err.message));
      }
      if (!accepted) sys.close(conn);
    }
    const clean = await serve(sys, accepted, mains[accepted.type]);
    restore(own);
    if (!clean || served >= MAX_CALLS || process.memoryUsage.rss() > RECYCLE_RSS_BYTES) process.exit(0);
    // callbacks a call left behind run now, while the descriptors lead nowhere, not during the next call;
    // a timer or handle still pending after that would fire during a later call, where a plugin process
    // would have exited without running it, so this worker goes too
    const left = await drained(idle);
    if (left.length) {
      note(`a ${accepted.type} call left ${left.join(', ')} pending: replaced`);
      process.exit(0);
    }
  }
}

/** How long a worker waits after a call for what it started to close (a delegate's pipes, a daemon's socket). */
const DRAIN_MS = 50;

/** Lets the event loop run until it holds no more than `idle` did, at most DRAIN_MS; what is left then. */
async function drained(idle: string[]): Promise<string[]> {
  const end = Date.now() + DRAIN_MS;
  await new Promise((resolve) => setImmediate(resolve));
  let left = leftBehind(idle, process.getActiveResourcesInfo());
  while (left.length && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    left = leftBehind(idle, process.getActiveResourcesInfo());
  }
  return left;
}

/** What `now` holds beyond `before` (both lists of resource types, with repeats). */
export function leftBehind(before: string[], now: string[]): string[] {
  const left = [...now];
  for (const type of before) {
    const i = left.indexOf(type);
    if (i >= 0) left.splice(i, 1);
  }
  return left;
}

/** Hello, request, checks; undefined when the client was answered `refused` or `fallback` or went away. */
function receive(sys: SocketCalls, conn: number, mains: Mains, buildId: string): Accepted | undefined {
  sys.setReceiveTimeout(conn, REQUEST_TIMEOUT_MS);
  if (!sameHost(sys.peerCredentials(conn))) {
    answer(conn, REFUSED_LINE);
    return undefined;
  }
  answer(conn, helloLine(buildId));
  const first = sys.receive(conn, HEADER_BYTES + 64 * 1024);
  const fds = first.fds;
  try {
    if (first.data.length === 0) return undefined;
    const header = readAtLeast(conn, first.data, HEADER_BYTES);
    const length = HEADER_BYTES + bodyLength(header);
    const frame = readAtLeast(conn, header, length);
    if (frame.length > length) throw new FrameError('bytes after the request');
    if (fds.length < 3 || fds.length > 4) throw new FrameError(`${fds.length} descriptors came with the request, expected stdin, stdout, stderr and the netns`);
    const request = parseBody(frame.subarray(HEADER_BYTES, length));
    if (!mains[request.type] || !sameNetns(fds[3], request.env.CNI_NETNS) || !canEnter(request.cwd)) {
      answer(conn, FALLBACK_LINE);
      closeAll(sys, fds);
      return undefined;
    }
    if (fds[3] !== undefined) sys.close(fds[3]);
    return { ...request, conn, stdio: [fds[0], fds[1], fds[2]] };
  } catch (err) {
    closeAll(sys, fds);
    throw err;
  }
}

/**
 * Runs the plugin as a process started by the runtime would run it, lets go of the client's
 * descriptors (the runtime waits for the end of its pipes) and answers the exit code. False when
 * the plugin's main threw, which a plugin process would not survive either.
 */
async function serve(sys: SocketCalls, call: Accepted, main: () => Promise<number>): Promise<boolean> {
  call.stdio.forEach((fd, i) => {
    sys.dup2(fd, i);
    sys.close(fd);
  });
  process.chdir(call.cwd);
  process.umask(call.umask);
  replaceEnv(call.env);
  process.argv = [process.argv[0], join(suiteRoot(), 'bin', call.type)];
  noteStartMode('worker');
  // what a process would learn afresh (which delegates are built alongside) is learnt afresh
  forgetDelegates();
  // from here the call is the worker's: it finishes even when the supervisor stops meanwhile (an upgrade)
  libc().prctl(PR_SET_PDEATHSIG, 0);
  // a runtime that kills the client (a timeout) must stop the call, as killing the plugin process would
  sys.killOnHangup(call.conn, true);
  if (sys.hungUp(call.conn)) process.exit(1);
  let code = 1;
  let clean = true;
  try {
    code = await main();
  } catch (err) {
    clean = false;
    note(`the plugin's main threw: ${(err as Error).stack ?? String(err)}`);
  }
  sys.killOnHangup(call.conn, false);
  detachStdio(sys);
  answer(call.conn, exitLine(code));
  sys.close(call.conn);
  return clean;
}

/** Points descriptors 0, 1 and 2 at /dev/null. */
function detachStdio(sys: SocketCalls): void {
  const devNull = openSync('/dev/null', 'r+');
  for (const fd of [0, 1, 2]) sys.dup2(devNull, fd);
  closeSync(devNull);
}

function replaceEnv(env: NodeJS.ProcessEnv): void {
  for (const name of Object.keys(process.env)) delete process.env[name];
  Object.assign(process.env, env);
}

/** The worker's own environment, directory, umask and arguments again; idle, it dies with its supervisor. */
function restore(own: { env: NodeJS.ProcessEnv; cwd: string; umask: number; argv: string[]; supervisor: number }): void {
  replaceEnv(own.env);
  process.chdir(own.cwd);
  process.umask(own.umask);
  process.argv = [...own.argv];
  libc().prctl(PR_SET_PDEATHSIG, SIGTERM);
  // the supervisor stopped during the call (an upgrade): this worker's calls are over
  if (process.ppid !== own.supervisor) process.exit(0);
}

/** Runs the checks a call goes through once, so that V8 has compiled them before a call waits on them. */
export function warmUpChecks(): void {
  socketCalls().warmUp();
  sameHost({ pid: process.pid, uid: 0 });
  parseBody(Buffer.from('loopback\0/\x0022\0CNI_COMMAND=VERSION\0'));
  helloLine('warm-up');
}

const namespacesOf = (pid: number | 'self') => ['net', 'mnt', 'user'].map((ns) => statSync(`/proc/${pid}/ns/${ns}`));
/** This worker's own namespaces, read once: between calls it is always back in them (withNetns switches back or exits). */
let ownNamespaces: ReturnType<typeof namespacesOf> | undefined;

/** Root, in this worker's network, mount and user namespaces: anyone else's client runs the plugin itself. */
function sameHost(peer: { pid: number; uid: number }): boolean {
  if (peer.uid !== 0) return false;
  try {
    ownNamespaces ??= namespacesOf('self');
    const own = ownNamespaces;
    return namespacesOf(peer.pid).every((ns, i) => sameFile(ns, own[i]));
  } catch {
    return false;
  }
}

/** The namespace the client opened is the one CNI_NETNS names here (no descriptor: the path did not open, which the plugin reports). */
function sameNetns(fd: number | undefined, path: string | undefined): boolean {
  if (fd === undefined) return true;
  try {
    return path !== undefined && sameFile(fstatSync(fd), statSync(path));
  } catch {
    return false;
  }
}

function canEnter(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

const sameFile = (a: { dev: number; ino: number }, b: { dev: number; ino: number }) => a.dev === b.dev && a.ino === b.ino;

function readAtLeast(conn: number, have: Buffer, size: number): Buffer {
  if (size > have.length + 2 * 1024 * 1024) throw new FrameError('frame too large');
  const chunks = [have];
  let length = have.length;
  while (length < size) {
    const chunk = Buffer.alloc(size - length);
    const n = readSync(conn, chunk);
    if (n === 0) throw new FrameError(`the request ended after ${length} of ${size} bytes`);
    chunks.push(chunk.subarray(0, n));
    length += n;
  }
  return Buffer.concat(chunks);
}

function answer(conn: number, line: string): void {
  try {
    writeSync(conn, line);
  } catch {
    // the client is gone; nothing to tell
  }
}

function closeAll(sys: SocketCalls, fds: number[]): void {
  for (const fd of fds) sys.close(fd);
}

let journal = 2;

/** To the supervisor's stderr (the journal), whatever descriptor 2 is meanwhile. */
const note = (text: string) => answer(journal, `cni-ts worker ${process.pid}: ${text}\n`);
