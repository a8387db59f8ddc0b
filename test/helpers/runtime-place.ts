import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { PLUGINS } from '../../scripts/plugins.mjs';
import { BIN_DIR, which } from './paths';
import type { PluginOutcome } from './spawn-collected';
import { sharedHost, startedFrom, TEST_WORKERS } from './workers';

/** How a test runs a runtime's command: the prefix that enters the place's namespaces and the environment it adds. */
export interface RuntimePlace {
  prefix: string[];
  env: Record<string, string>;
  /** Whether warm workers serve this place. */
  workers: boolean;
}

/**
 * The place for a runtime's commands in netns `netns` (the test's "host"; undefined: the machine's
 * namespaces): through the warm workers serving there, or, when the suite runs without them, as
 * Node.js processes (`ip netns exec` for a named netns). `netOnly`: enter the netns alone and stay
 * in the machine's mount namespace (Podman's host).
 */
export function runtimePlace(netns: string | undefined, netOnly = false): RuntimePlace {
  if (!TEST_WORKERS) {
    const prefix = !netns ? [] : netOnly ? [which('nsenter'), `--net=/run/netns/${netns}`] : [which('ip'), 'netns', 'exec', netns];
    return { prefix, env: { CNI_TS_WORKERS: 'off' }, workers: false };
  }
  const host = sharedHost(netns, netOnly);
  return { prefix: host.prefix, env: host.env, workers: true };
}

/** Tools run as Node.js processes (a worker serves plugins only). */
const TOOLS = new Set(PLUGINS.filter((p) => p.kind === 'tool').map((p) => p.name));
let timingDir: string | undefined;
let calls = 0;

/** A fresh file for one call's CNI_TS_TIMING lines (a path there appends them to it). */
export function timingFile(): string {
  timingDir ??= mkdtempSync(join(tmpdir(), 'cnit-timing-'));
  return join(timingDir, `${++calls}.jsonl`);
}

process.on('exit', () => {
  if (timingDir) rmSync(timingDir, { recursive: true, force: true });
});

/**
 * Fails the call when a plugin a worker should have served ran as a Node.js process instead: a
 * suite meant to run through the workers must not pass on the fallback unnoticed. No line in
 * `timing`: the plugin never finished (killed), nothing to tell.
 */
export function requireWorker(executable: string, env: Record<string, string>, timing: string, outcome: PluginOutcome): void {
  let text: string;
  try {
    text = readFileSync(timing, 'utf8');
  } catch {
    return;
  } finally {
    rmSync(timing, { force: true });
  }
  const from = startedFrom(text);
  if (from === undefined) return;
  const eligible = dirname(executable) === BIN_DIR && !TOOLS.has(basename(executable)) && !!env.CNI_COMMAND && env.CNI_TS_WORKERS !== 'off' && process.getuid?.() === 0;
  if (eligible && from !== 'worker') {
    throw new Error(`${basename(executable)} ${env.CNI_COMMAND} ran as a Node.js process (${from}), not in a warm worker; its output: ${outcome.stdout}${outcome.stderr}`);
  }
}
