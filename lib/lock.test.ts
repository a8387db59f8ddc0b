import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LockTimeoutError } from './errors';
import { FileLock } from './lock';

const dir = mkdtempSync(join(tmpdir(), 'cnit-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Holds an flock on `path` from another process (util-linux flock(1)) until killed. */
async function holdElsewhere(path: string) {
  // its own process group, so killing the group also ends the shell and sleep that inherit the lock
  const child = spawn('flock', [path, '-c', 'echo held; sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  return { kill: () => process.kill(-child.pid!, 'SIGKILL') };
}

describe('FileLock', () => {
  it('is exclusive against another process and times out with LockTimeoutError', async () => {
    const path = join(dir, 'a');
    const holder = await holdElsewhere(path);
    try {
      const start = Date.now();
      expect(() => new FileLock(path).acquire(300)).toThrow(LockTimeoutError);
      expect(Date.now() - start).toBeGreaterThanOrEqual(290);
    } finally {
      holder.kill();
    }
  });

  it('is acquired as soon as the holder goes away', async () => {
    const path = join(dir, 'b');
    const holder = await holdElsewhere(path);
    setTimeout(() => holder.kill(), 200);
    const lock = new FileLock(path);
    // acquire polls synchronously; let the timer fire by awaiting a little first
    await new Promise((r) => setTimeout(r, 300));
    lock.acquire(2000);
    lock.release();
  });

  it('releases after the guarded function, even when it throws', () => {
    const lock = new FileLock(join(dir, 'c'));
    expect(() =>
      lock.with(() => {
        throw new Error('x');
      }),
    ).toThrow('x');
    expect(lock.with(() => 42, 100)).toBe(42);
  });
});
