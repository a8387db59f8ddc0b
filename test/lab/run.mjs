// Runs the kernel lab's cases (every test/lab/*.lab.mjs) inside the lab's guest; started by the
// guest's /init (scripts/lab/init). One JSON line per event on --results (default stdout):
//   {"event":"start", ...}, per case {"event":"begin","name"} then {"name","ok","error"?,"ms"},
//   {"event":"done","passed","failed"}
// --list prints the registered case names as a JSON array and runs nothing (the host test does
// that to know the cases before the guest boots). --filter REGEX runs the matching cases only.
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { caseContext, execPlugin, registeredCases } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (flag) => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? undefined : process.argv[i + 1];
};

const caseFiles = readdirSync(here)
  .filter((f) => f.endsWith('.lab.mjs'))
  .sort();
for (const file of caseFiles) await import(pathToFileURL(join(here, file)).href);

if (process.argv.includes('--list')) {
  console.log(JSON.stringify(registeredCases().map((c) => c.name)));
  process.exit(0);
}

const resultsPath = arg('--results');
const out = resultsPath ? openSync(resultsPath, 'w') : 1;
const emit = (record) => writeSync(out, `${JSON.stringify(record)}\n`);
const uptime = () => {
  try {
    return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
};
const filter = arg('--filter') ? new RegExp(arg('--filter')) : undefined;
const selected = registeredCases().filter((c) => !filter || filter.test(c.name));

// how long a plugin takes to start here: three VERSION calls in a row (the first pays the cold caches)
const startMs = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  await execPlugin('host-local', { command: 'VERSION', stdin: { cniVersion: '1.0.0' } });
  startMs.push(Math.round(performance.now() - t0));
}
emit({ event: 'start', uptime: uptime(), node: process.version, kernel: release(), cases: selected.length, pluginStartMs: startMs });

let passed = 0;
let failed = 0;
for (const c of selected) {
  emit({ event: 'begin', name: c.name });
  const t = caseContext();
  const t0 = performance.now();
  let error;
  let timer;
  try {
    await Promise.race([
      c.fn(t),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${c.timeoutMs} ms`)), c.timeoutMs);
      }),
    ]);
  } catch (e) {
    error = e instanceof Error ? (e.stack ?? e.message) : String(e);
  } finally {
    clearTimeout(timer);
  }
  const undoErrors = await t.undo();
  if (!error && undoErrors.length) error = `cleanup failed: ${undoErrors.join('; ')}`;
  const ms = Math.round(performance.now() - t0);
  if (error) failed++;
  else passed++;
  emit({ name: c.name, ok: !error, ...(error ? { error } : {}), ms });
  console.log(`lab: ${error ? 'FAIL' : 'ok  '} ${c.name} (${ms} ms)${error ? `\n${error}` : ''}`);
}
emit({ event: 'done', uptime: uptime(), passed, failed });
// closing a serial port waits until its output has gone out, so nothing is lost to the power-off
if (out !== 1) closeSync(out);
