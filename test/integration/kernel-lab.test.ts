import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../helpers/root';

// The kernel lab (scripts/lab/, docs/development.md "Kernel lab"): Debian's kernel under qemu with
// the built suite in its initramfs, for what this machine's kernel cannot do (dummy, ipvlan, vlan,
// vrf links, bridge VLAN filtering, a physical NIC the kernel gives back when its namespace is
// deleted). The guest runs every case of test/lab/*.lab.mjs once; each case becomes one test here,
// failing with the guest's error. A lab that cannot be installed or booted fails every test with
// the reason: nothing passes unseen.

const REPO = join(__dirname, '..', '..');
const CACHE = process.env.CNI_TS_LAB_CACHE ?? '/var/cache/cni-ts-lab';
/** Seconds the whole boot and run may take before qemu is killed (under software emulation ~1 min). */
const LAB_TIMEOUT_S = 480;

interface LabCase {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}
interface LabSummary {
  accel: string;
  prepareMs: number;
  qemuMs: number;
  qemuStatus: number;
  boot?: { uptime: number; kernel: string; modprobeFailed: string };
  start?: { uptime: number; node: string; pluginStartMs: number[] };
  done?: { uptime: number; passed: number; failed: number };
  cases: LabCase[];
  /** When the guest did not finish: why, the case it was in, and the end of its console. */
  unfinished?: string;
  stuckIn?: string;
  consoleTail?: string;
}

// the cases, listed on the host from the same files the guest runs
const cases: string[] = JSON.parse(execFileSync(process.execPath, [join(REPO, 'test', 'lab', 'run.mjs'), '--list'], { encoding: 'utf8' }));

let summary: LabSummary | undefined;
/** Set when the lab produced no results at all: every test fails with it. */
let failure: Error | undefined;
/** Set when the guest stopped before its last case: the cases it did not report fail with it. */
let unfinished: string | undefined;

/** Runs scripts/lab/run.sh into `out`; the whole process group is killed if it overstays. */
function runLab(out: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(REPO, 'scripts', 'lab', 'run.sh'), '--out', out, '--timeout', String(LAB_TIMEOUT_S)], {
      cwd: REPO,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const killer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), (LAB_TIMEOUT_S + 90) * 1000);
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code: code ?? (signal ? 128 : -1), stderr });
    });
  });
}

beforeAll(
  async () => {
    try {
      requireRoot();
      const out = join(CACHE, 'runs', `vitest-${new Date().toISOString().replace(/[:.]/g, '')}-${process.pid}`);
      mkdirSync(out, { recursive: true });
      const { code, stderr } = await runLab(out);
      try {
        summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      } catch {
        summary = undefined;
      }
      if (!summary?.start)
        throw new Error(`the kernel lab did not start its cases (scripts/lab/run.sh exited ${code}; logs in ${out}):\n${stderr.split('\n').slice(-60).join('\n')}`);
      if (!summary.done)
        unfinished = `${summary.unfinished}${summary.stuckIn ? ` during the case ${JSON.stringify(summary.stuckIn)}` : ''} (logs in ${out}); the console ends:\n${summary.consoleTail}`;
      // the timings, for whoever reads the test output
      console.log(stderr.split('\n').find((l) => l.includes('qemu ran')));
    } catch (e) {
      failure = e instanceof Error ? e : new Error(String(e));
    }
  },
  (LAB_TIMEOUT_S + 120) * 1000,
);

describe('kernel lab: Debian kernel under qemu, the built plugins in the guest', () => {
  it('boots, loads its modules and reports every case', () => {
    if (failure) throw failure;
    if (unfinished) throw new Error(unfinished);
    expect(summary!.boot?.modprobeFailed, 'modules the guest could not load').toBe('');
    expect(summary!.cases.map((c) => c.name).sort()).toEqual([...cases].sort());
  });

  for (const name of cases)
    it(name, () => {
      if (failure) throw failure;
      const result = summary!.cases.find((c) => c.name === name);
      if (!result) throw new Error(`the guest did not report this case: ${unfinished ?? 'the runner finished without it'}`);
      if (!result.ok) throw new Error(`in the lab's guest: ${result.error}`);
    });
});
