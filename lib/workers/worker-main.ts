import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { libc, PR_SET_PDEATHSIG } from '../ffi/libc';
import { childProcess } from '../start/builtins';
import { loadNetlinkBinding } from '../start/native';
import { suiteRoot } from '../start/suite';
import { warmUp } from './warm-up';
import { type Mains, serveCalls, warmUpChecks } from './worker';

const SIGTERM = 15;
/** The supervisor hands every worker its listening socket as this descriptor. */
export const LISTEN_FD = 3;

/** The build a worker belongs to (dist/build-id, written by scripts/build.mjs and compiled into bin/<type>). */
export const buildId = (): string => readFileSync(join(suiteRoot(), 'dist', 'build-id'), 'utf8').trim();

/**
 * The entry of dist/cni-ts-worker.js (scripts/build.mjs lists every plugin's main and verbs):
 * everything a call needs is loaded before a call arrives, then the worker serves calls. An idle
 * worker dies with its supervisor; a busy one finishes its call first (see serveCalls).
 */
export async function startWorker(mains: Mains): Promise<void> {
  const supervisor = process.ppid;
  libc().prctl(PR_SET_PDEATHSIG, SIGTERM);
  // the supervisor may have gone before the line above (under a subreaper the parent is not 1 then)
  if (process.ppid !== supervisor || supervisor === 1) process.exit(0);
  loadNetlinkBinding();
  childProcess();
  // the code every call runs, compiled now rather than while a call waits
  await warmUp();
  warmUpChecks();
  await serveCalls(LISTEN_FD, mains, buildId());
}
