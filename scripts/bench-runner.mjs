// A runtime's exec loop for the benchmarks: runs in a side's host namespaces (started once with
// nsenter) and execs what it is asked, as a runtime execs plugins, so no per-call nsenter is timed.
// Requests on stdin, one JSON per line: { id, file, args, env, input }; answers on stdout:
// { id, code, out, err, wallMs } (wall: from spawn to the child's exit and closed pipes).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, file, args = [], env, input = '' } = JSON.parse(line);
  const start = process.hrtime.bigint();
  const child = spawn(file, args, { env });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  child.stdin.on('error', () => undefined);
  child.on('error', (e) => process.stdout.write(`${JSON.stringify({ id, code: -1, out, err: String(e), wallMs: 0 })}\n`));
  child.on('close', (code) => {
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    process.stdout.write(`${JSON.stringify({ id, code, out, err, wallMs })}\n`);
  });
  child.stdin.end(input);
});
