import { readlinkSync, statSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsNotFoundError, NotANetnsError } from '../errors';
import { netnsPool } from '../../test/helpers/netns';
import { requireRoot } from '../../test/helpers/root';
import { assertNetns, isCurrentNetns, withNetns } from './index';

const pool = netnsPool();
beforeAll(requireRoot);
afterAll(() => pool.destroyAll());

const currentNetns = () => readlinkSync('/proc/thread-self/ns/net');

describe('withNetns (privileged)', () => {
  it('runs the function inside the namespace and comes back', () => {
    const ns = pool.make('nsx');
    const home = currentNetns();
    const inside = withNetns(ns.path, () => currentNetns());
    expect(inside).not.toBe(home);
    expect(inside).toBe(`net:[${statSync(ns.path).ino}]`);
    expect(currentNetns()).toBe(home);
  });

  it('comes back when the function throws', () => {
    const ns = pool.make('nsx');
    const home = currentNetns();
    expect(() =>
      withNetns(ns.path, () => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(currentNetns()).toBe(home);
  });

  it('refuses a function that returns a promise, after switching back', () => {
    const ns = pool.make('nsx');
    const home = currentNetns();
    expect(() => withNetns(ns.path, () => Promise.resolve(1))).toThrow('must be synchronous');
    expect(currentNetns()).toBe(home);
  });

  it('keeps libuv worker threads in the host namespace', async () => {
    const ns = pool.make('nsx');
    const home = currentNetns();
    withNetns(ns.path, () => undefined);
    // readlink runs on a thread-pool thread: it must report the host namespace, not the container's
    expect(await readlink('/proc/thread-self/ns/net')).toBe(home);
  });

  it('checks the path before switching', () => {
    expect(() => withNetns('/run/netns/cnit-missing', () => 1)).toThrow(NetnsNotFoundError);
    expect(() => withNetns('/etc/hostname', () => 1)).toThrow(NotANetnsError);
    expect(() => assertNetns('/proc/self/ns/uts')).toThrow(NotANetnsError);
  });

  it('knows its own namespace', () => {
    const ns = pool.make('nsx');
    expect(isCurrentNetns('/proc/self/ns/net')).toBe(true);
    expect(isCurrentNetns(ns.path)).toBe(false);
  });
});
