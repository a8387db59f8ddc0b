import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { netnsPool, type TestNetns } from './netns';
import { requireRoot } from './root';
import { makeNode } from './topology';
import { stopServers } from './traffic';

export interface NodeFixture {
  /** A fresh temporary directory (IPAM store, state, configs), removed after the test. */
  dir: string;
  host: TestNetns;
  outside: TestNetns;
}

/**
 * Registers the hooks every integration test of a node needs: root, then per test a temporary
 * directory and a host + outside namespace pair (see makeNode); afterwards, pass or fail, the echo
 * servers, every namespace made through the returned pool, and the directory are removed.
 * `onEach` receives the fixture of each test.
 */
export function useNodeFixture(tmpPrefix: string, onEach: (fixture: NodeFixture) => void): ReturnType<typeof netnsPool> {
  const pool = netnsPool();
  let dir: string | undefined;
  beforeAll(requireRoot);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), tmpPrefix));
    onEach({ dir, ...makeNode((label) => pool.make(label)) });
  });
  afterEach(() => {
    stopServers();
    pool.destroyAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return pool;
}
