import { fstatSync, readSync, statSync, writeSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { libc, PR_SET_PDEATHSIG } from '../ffi/libc';
import type { Mains } from '../start/snapshot';
import { noteStartMode, suiteRoot } from '../start/suite';
import { bodyLength, errorLine, exitLine, FALLBACK_LINE, FrameError, HEADER_BYTES, helloLine, parseBody, REFUSED_LINE, type WorkerRequest } from './protocol';
import { socketCalls, type SocketCalls } from './sys';

/** A client that connected but sends nothing is dropped after this, and the worker takes the next one. */
const REQUEST_TIMEOUT_MS = 2000;

interface Accepted extends WorkerRequest {
  conn: number;
  /** The client's stdin, stdout and stderr. */
  stdio: [number, number, number];
}

/**
 * A warm worker: started ahead of time with every plugin's code loaded, it waits in accept() on
 * the supervisor's listening socket (fd `listenFd`), serves exactly one plugin call the way a
 * process started by the runtime would (the client's stdin, stdout and stderr as its own, its
 * environment, working directory and umask, the same code, locks and state), then exits. A
 * connection it cannot serve (another user or namespace, a malformed frame, a type it does not
 * have) is answered and dropped, and the worker takes the next one.
 */
export async function serveOneCall(listenFd: number, mains: Mains, buildId: string): Promise<never> {
  const sys = socketCalls();
  // started at the lowest priority so as not to slow the calls served meanwhile; ready, it waits at the
  // normal one, so that its hello is not late on a busy host (the client falls back after 50 ms)
  setPriority(0);
  for (;;) {
    const conn = sys.accept(listenFd);
    let accepted: Accepted | undefined;
    try {
      accepted = receive(sys, conn, mains, buildId);
    } catch (err) {
      note(`dropped a connection: ${(err as Error).message}`);
      if (err instanceof FrameError) answer(conn, errorLine(err.message));
    }
    if (accepted) return run(sys, accepted, mains[accepted.type]);
    sys.close(conn);
  }
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
    const frame = readAtLeast(conn, header, HEADER_BYTES + bodyLength(header));
    const length = HEADER_BYTES + bodyLength(frame);
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

/** Runs the plugin as a process started by the runtime would run, answers its exit code, and exits. */
async function run(sys: SocketCalls, call: Accepted, main: () => Promise<number>): Promise<never> {
  call.stdio.forEach((fd, i) => {
    sys.dup2(fd, i);
    sys.close(fd);
  });
  process.chdir(call.cwd);
  process.umask(call.umask);
  for (const name of Object.keys(process.env)) delete process.env[name];
  Object.assign(process.env, call.env);
  process.argv = [process.argv[0], join(suiteRoot(), 'bin', call.type)];
  noteStartMode('worker');
  // from here the call is the worker's: it finishes even when the supervisor stops meanwhile (an upgrade)
  libc().prctl(PR_SET_PDEATHSIG, 0);
  // a runtime that kills the client (a timeout) must stop the call, as killing the plugin process would
  sys.killOnHangup(call.conn, true);
  if (sys.hungUp(call.conn)) process.exit(1);
  const code = await main();
  sys.killOnHangup(call.conn, false);
  answer(call.conn, exitLine(code));
  process.exit(code);
}

/** Runs the checks a call goes through once, so that V8 has compiled them before a call waits on them. */
export function warmUpChecks(): void {
  socketCalls().warmUp();
  sameHost({ pid: process.pid, uid: 0 });
  parseBody(Buffer.from('loopback\0/\x0022\0CNI_COMMAND=VERSION\0'));
  helloLine('warm-up');
}

/** Root, in this worker's network, mount and user namespaces: anyone else's client runs the plugin itself. */
function sameHost(peer: { pid: number; uid: number }): boolean {
  if (peer.uid !== 0) return false;
  try {
    return ['net', 'mnt', 'user'].every((ns) => sameFile(statSync(`/proc/${peer.pid}/ns/${ns}`), statSync(`/proc/self/ns/${ns}`)));
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

/** To the supervisor's stderr (the journal), before any call took it over. */
const note = (text: string) => answer(2, `cni-ts worker ${process.pid}: ${text}\n`);
