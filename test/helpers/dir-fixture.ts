import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { netnsPool, type TestNetns } from './netns';
import { requireRoot } from './root';

/**
 * The hooks of a test that needs a temporary directory and one throw-away namespace (a plugin that
 * works without a node topology: host-local, tuning): root, then per test a fresh directory and
 * namespace; afterwards, pass or fail, every namespace made through the returned pool and the
 * directory are removed. `onEach` receives them.
 */
export function useDirFixture(tmpPrefix: string, label: string, onEach: (dir: string, ns: TestNetns) => void): ReturnType<typeof netnsPool> {
  const pool = netnsPool();
  let dir: string | undefined;
  beforeAll(requireRoot);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), tmpPrefix));
    onEach(dir, pool.make(label));
  });
  afterEach(() => {
    pool.destroyAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return pool;
}
