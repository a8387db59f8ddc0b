import { closeSync, openSync, stat, statfsSync, statSync } from 'node:fs';
import { NetnsNotFoundError, NotANetnsError, SyscallError, isNodeErrorCode } from '../errors';
import { CLONE_NEWNET, NS_GET_NSTYPE, libc } from '../ffi/libc';

const NSFS_MAGIC = 0x6e736673;

/**
 * Throws NetnsNotFoundError when nothing is at `path`, NotANetnsError when something is but it is
 * not a network namespace (a plain file, a mount namespace...). Touches nothing else.
 */
export function assertNetns(path: string): void {
  if (!path.startsWith('/')) throw new NotANetnsError(path, 'the path is not absolute');
  try {
    statSync(path);
  } catch (err) {
    if (isNodeErrorCode(err, 'ENOENT') || isNodeErrorCode(err, 'ENOTDIR')) throw new NetnsNotFoundError(path);
    throw new NotANetnsError(path, (err as Error).message);
  }
  if (statfsSync(path).type !== NSFS_MAGIC) throw new NotANetnsError(path, 'it is not on nsfs');
  const fd = openSync(path, 'r');
  try {
    const nstype = libc().ioctl(fd, NS_GET_NSTYPE);
    if (nstype !== CLONE_NEWNET) throw new NotANetnsError(path, 'it is a namespace of another kind');
  } finally {
    closeSync(fd);
  }
}

/** True when `path` is the namespace this thread runs in (the runtime forgot to make one). */
export function isCurrentNetns(path: string): boolean {
  const own = statSync('/proc/thread-self/ns/net');
  const other = statSync(path);
  return own.ino === other.ino && own.dev === other.dev;
}

export function netnsExists(path: string): boolean {
  try {
    assertNetns(path);
    return true;
  } catch (err) {
    if (err instanceof NetnsNotFoundError || err instanceof NotANetnsError) return false;
    throw err;
  }
}

let threadPoolStarted = false;

/**
 * libuv creates its worker threads on the first async job, and a thread inherits the namespace of
 * the thread that creates it. Submitting one job now, in the host namespace, keeps them all there.
 */
function startThreadPoolInHostNetns(): void {
  if (threadPoolStarted) return;
  threadPoolStarted = true;
  stat('/', () => undefined);
}

/**
 * Runs the synchronous `fn` with the calling thread inside the network namespace at `path`
 * and always switches back. `fn` must not await or start async work (see DESIGN.md).
 * If switching back fails the process exits at once rather than go on in the wrong namespace.
 */
export function withNetns<T>(path: string, fn: () => T): T {
  startThreadPoolInHostNetns();
  const c = libc();
  const homeFd = openSync('/proc/thread-self/ns/net', 'r');
  let targetFd: number;
  try {
    assertNetns(path);
    targetFd = openSync(path, 'r');
  } catch (err) {
    closeSync(homeFd);
    throw err;
  }
  try {
    if (c.setns(targetFd, CLONE_NEWNET) !== 0) throw new SyscallError(c.errno(), 'setns', path);
    try {
      const result = fn();
      if (result instanceof Promise) throw new TypeError('withNetns: the function returned a promise; it must be synchronous');
      return result;
    } finally {
      if (c.setns(homeFd, CLONE_NEWNET) !== 0) {
        process.stderr.write(`fatal: cannot return to the host network namespace (errno ${c.errno()}); exiting\n`);
        process.exit(70);
      }
    }
  } finally {
    closeSync(targetFd);
    closeSync(homeFd);
  }
}
