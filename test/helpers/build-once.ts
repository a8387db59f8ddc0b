import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerHost } from './workers';

/**
 * The suite's global set-up, once per run whatever the number of projects: builds bin/ and dist/,
 * and, as root, starts the warm workers that serve plugin calls made in the machine's own
 * namespaces (test/helpers/runtime-place.ts; each test's host namespace gets its own). The
 * socket reaches the test processes through the environment they inherit.
 */
export default function setup(): (() => void) | undefined {
  if (process.env.CNI_TS_TEST_BUILT) return undefined;
  process.env.CNI_TS_TEST_BUILT = '1';
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'cnit-root-workers-'));
  const root = new WorkerHost(undefined, join(dir, 'workers.sock'));
  root.startSupervisorSync(4);
  process.env.CNI_TS_TEST_ROOT_WORKERS = root.socket;
  return () => {
    root.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
}
