// The kernel lab's report on a run (scripts/lab/run.sh): reads the guest's results.jsonl and the
// logs in the run's directory, writes summary.json there, prints one line per case and a timing line
// on stderr, and exits 0 (every case passed), 1 (a case failed) or 2 (the guest did not finish).
//   node summary.mjs OUT QEMU_STATUS PREPARE_MS QEMU_MS ACCEL_ARGS
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [out, qemuStatus, prepareMs, qemuMs, accelArgs] = process.argv.slice(2);
const read = (file) => {
  try {
    return readFileSync(join(out, file), 'utf8');
  } catch {
    return '';
  }
};
const records = [];
for (const line of read('results.jsonl').split(/\r?\n/)) {
  if (!line.trim()) continue;
  try {
    records.push(JSON.parse(line));
  } catch {
    records.push({ event: 'garbled', line });
  }
}
const event = (name) => records.find((r) => r.event === name);
const cases = records.filter((r) => r.name && !r.event);
const kvmFailed = /failed to initialize kvm|Could not access KVM/i.test(read('qemu.log'));
const summary = {
  accel: accelArgs.includes('kvm') && !kvmFailed ? 'kvm' : 'tcg',
  prepareMs: Number(prepareMs),
  qemuMs: Number(qemuMs),
  qemuStatus: Number(qemuStatus),
  boot: event('boot'),
  start: event('start'),
  done: event('done'),
  timeout: event('timeout'),
  cases,
};
if (!summary.done) {
  summary.unfinished = summary.timeout
    ? 'the guest timed out'
    : summary.qemuStatus === 124
      ? 'qemu was killed at the host timeout'
      : `qemu exited ${qemuStatus} before the runner finished`;
  const begun = records.filter((r) => r.event === 'begin').pop();
  if (begun && !cases.some((c) => c.name === begun.name)) summary.stuckIn = begun.name;
  summary.consoleTail = read('console.log').split('\n').slice(-40).join('\n');
}
writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2));

for (const c of cases) console.error(`lab: ${c.ok ? 'ok  ' : 'FAIL'} ${c.name} (${c.ms} ms)${c.ok ? '' : `\n${c.error}`}`);
const s = (ms) => (ms / 1000).toFixed(1);
console.error(
  `lab: ${summary.accel}, kernel, initramfs and accelerator ready in ${s(prepareMs)} s, qemu ran ${s(qemuMs)} s; guest booted in ${summary.boot?.uptime ?? '?'} s, ` +
    `plugin starts ${summary.start?.pluginStartMs?.join('/') ?? '?'} ms, done at ${summary.done?.uptime ?? '?'} s; ` +
    `${cases.filter((c) => c.ok).length} passed, ${cases.filter((c) => !c.ok).length} failed`,
);
if (!summary.done) {
  const stuck = summary.stuckIn ? ` during the case ${JSON.stringify(summary.stuckIn)}` : '';
  console.error(`lab: ${summary.unfinished}${stuck}; console (${join(out, 'console.log')}) ends:\n${summary.consoleTail}\n${read('qemu.log')}`);
  process.exit(2);
}
process.exit(cases.every((c) => c.ok) ? 0 : 1);
