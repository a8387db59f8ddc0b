import { closeSync, openSync } from 'node:fs';
import { LockTimeoutError, SyscallError, Errno } from './errors';
import { LOCK_EX, LOCK_NB, LOCK_UN, libc } from './ffi/libc';

export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/** CNI_TS_LOCK_TIMEOUT_MS, else 30 s: how long a plugin waits for a lock before answering 11 (try again later). */
export const lockTimeoutMs = (env: Readonly<Record<string, string | undefined>> = process.env): number => {
  const value = Number(env.CNI_TS_LOCK_TIMEOUT_MS);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_LOCK_TIMEOUT_MS;
};

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread for `ms` (a plugin is one short synchronous job; nothing else waits on its event loop). */
export const sleepSync = (ms: number): void => void Atomics.wait(sleeper, 0, 0, ms);

/**
 * An exclusive flock(2) on `path` (created if missing), compatible with the Go plugins'
 * go-filemutex. The wait is bounded: polling with a growing back-off up to `timeoutMs`, then
 * LockTimeoutError, so a stuck holder turns into "try again later" instead of a hang.
 */
export class FileLock {
  private fd: number | undefined;

  constructor(readonly path: string) {}

  acquire(timeoutMs = lockTimeoutMs()): void {
    if (this.fd !== undefined) throw new Error(`lock ${this.path} already held by this process`);
    const fd = openSync(this.path, 'a', 0o600);
    const c = libc();
    const start = Date.now();
    let backoff = 1;
    for (;;) {
      if (c.flock(fd, LOCK_EX | LOCK_NB) === 0) {
        this.fd = fd;
        return;
      }
      const errno = c.errno();
      if (errno !== Errno.EWOULDBLOCK && errno !== Errno.EINTR) {
        closeSync(fd);
        throw new SyscallError(errno, 'flock', this.path);
      }
      const waited = Date.now() - start;
      if (waited >= timeoutMs) {
        closeSync(fd);
        throw new LockTimeoutError(this.path, waited);
      }
      // jitter keeps many waiters from waking in lock-step
      sleepSync(Math.min(backoff + Math.random() * backoff, timeoutMs - waited));
      backoff = Math.min(backoff * 2, 25);
    }
  }

  release(): void {
    if (this.fd === undefined) return;
    libc().flock(this.fd, LOCK_UN);
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** Runs fn with the lock held; releases it whatever happens. */
  with<T>(fn: () => T, timeoutMs?: number): T {
    this.acquire(timeoutMs);
    try {
      return fn();
    } finally {
      this.release();
    }
  }

  /** The same for async work (netlink calls): held across the awaits, so fn must not take this lock again. */
  async withAsync<T>(fn: () => Promise<T>, timeoutMs?: number): Promise<T> {
    this.acquire(timeoutMs);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
