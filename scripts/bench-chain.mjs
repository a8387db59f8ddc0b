// Podman's chain (bridge + host-local, portmap, firewall, tuning) through a libcni-like driver, ours
// beside the reference plugins (/usr/lib/cni), each side in its own throw-away host namespace with
// the same number of other containers (each with a published port) already attached. ADD and DEL
// cycles are interleaved so machine noise hits both alike; prints medians and ratios.
// Usage (root): node scripts/bench-chain.mjs [cycles] [container counts, e.g. 0,100,1000] [burst size]
// The burst: that many containers' chains started at once on each side in turn; prints how many
// succeeded, the median and p99 chain ADD, and the peak of the summed memory of the side's processes.
// Sides: the reference; ours with warm workers (`cni-ts workers` running in that side's host namespace);
// ours without (CNI_TS_WORKERS=off: the client execs the Node.js launcher, the fallback path).
// CNI_TS_BENCH_BEFORE=<bin dir of an older build> adds it as a side (before/after in one run).
// Every side execs its plugins from one long-lived process in one mount and network namespace of its
// host (scripts/bench-runner.mjs, as a runtime on a host runs them; workers serve only callers of their
// own namespaces), which times each exec from spawn to exit.
// Each cycle also times the Node.js floor: one `node -e 0` per plugin of the chain, exec'd the same way.
// Then each plugin's VERSION, ours through the workers beside the reference's, with the exec floor
// (`/bin/true` exec'd the same way): what any process costs here before its first instruction.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, timingOf } from './bench-common.mjs';

const CYCLES = Number(process.argv[2] ?? 15);
const COUNTS = (process.argv[3] ?? '0,100,1000').split(',').map(Number);
const BURST = Number(process.argv[4] ?? 30);
// CNI_TS_BENCH_LEAK=N: then N chain ADD/DEL cycles on the workers side alone, with the supervisor's and
// the workers' resident memory after 100 cycles and after N (a leak shows as growth between the two)
const LEAK_CYCLES = Number(process.env.CNI_TS_BENCH_LEAK ?? 0);
// the side without workers (a Node.js start per call) takes part up to this many containers (filling to 1,000 that way takes half an hour)
const FALLBACK_MAX = Number(process.env.CNI_TS_BENCH_FALLBACK_MAX ?? 100);
const ROOT = join(import.meta.dirname, '..');
const SIDES = {
  ours: join(ROOT, 'bin'),
  reference: '/usr/lib/cni',
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const run = (cmd, ...args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

function makeSide(name, binDir, env = {}) {
  const dir = mkdtempSync(join(tmpdir(), `cni-bench-chain-${name}-`));
  const host = `cni-bc-${name}-${process.pid}`;
  run('ip', 'netns', 'add', host);
  run('ip', '-n', host, 'link', 'set', 'lo', 'up');
  // one mount namespace for the side's whole run (ip netns exec makes one with the host's /sys)
  const holder = spawn('ip', ['netns', 'exec', host, 'sleep', 'infinity'], { stdio: 'ignore' });
  const side = { name, binDir, dir, host, holder, env, containers: [], nextId: 0, timings: [] };
  side.runner = spawn('nsenter', [...enter(side), process.execPath, join(import.meta.dirname, 'bench-runner.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const pending = new Map();
  createInterface({ input: side.runner.stdout }).on('line', (line) => {
    const answer = JSON.parse(line);
    pending.get(answer.id)(answer);
    pending.delete(answer.id);
  });
  let ids = 0;
  /** Execs `file` in the side's host namespaces: { code, out, err, wallMs }. */
  side.exec = (file, { args = [], env = { PATH: process.env.PATH }, input = '' } = {}) =>
    new Promise((resolve) => {
      const id = ++ids;
      pending.set(id, resolve);
      side.runner.stdin.write(`${JSON.stringify({ id, file, args, env, input })}\n`);
    });
  return side;
}

const enter = (side) => ['-t', String(side.holder.pid), '-m', '-n'];

/** Starts `cni-ts workers` in the side's host namespace and waits until it answers with a worker. */
async function startWorkers(side) {
  const socket = join(side.dir, 'workers.sock');
  side.env.CNI_TS_WORKERS_SOCKET = socket;
  side.supervisor = spawn('nsenter', [...enter(side), process.execPath, join(ROOT, 'dist', 'cni-ts.js'), 'workers', '--socket', socket], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    const r = await side.exec(join(side.binDir, 'loopback'), {
      input: '{"cniVersion":"1.0.0"}',
      env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION', CNI_TS_TIMING: '1', ...side.env },
    });
    if (timingOf(r.err)?.startedFrom === 'worker') return;
  }
  throw new Error('the workers did not answer');
}

/** The conflist Podman 4 writes for a network with the CNI backend (one port published per container). */
function conflist(side) {
  return {
    cniVersion: '1.0.0',
    name: 'benchnet',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni-podman9',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: '10.99.0.0/20', gateway: '10.99.0.1' }]], dataDir: join(side.dir, 'ipam') },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'firewall', backend: '' },
      { type: 'tuning' },
    ],
  };
}

/** One plugin exec as libcni does it: CNI_* env, the plugin's config with name, cniVersion, runtimeConfig and prevResult. */
async function execPlugin(side, plugin, command, ctr, prevResult) {
  const list = conflist(side);
  const conf = { cniVersion: list.cniVersion, name: list.name, ...plugin };
  if (plugin.capabilities?.portMappings) conf.runtimeConfig = { portMappings: [{ hostPort: ctr.hostPort, containerPort: 80, protocol: 'tcp' }] };
  if (prevResult) conf.prevResult = prevResult;
  const env = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: ctr.id,
    CNI_NETNS: `/run/netns/${ctr.netns}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: side.binDir,
    CNI_TS_STATE_DIR: join(side.dir, 'state'),
    CNI_TS_TIMING: '1',
    ...side.env,
  };
  const r = await side.exec(join(side.binDir, plugin.type), { env, input: JSON.stringify(conf) });
  if (r.code !== 0) throw new Error(`${side.name} ${plugin.type} ${command}: ${r.out}${r.err}`);
  const timing = timingOf(r.err);
  if (timing) side.timings.push({ plugin: plugin.type, command, wallMs: r.wallMs, ...timing });
  return r.out ? JSON.parse(r.out) : undefined;
}

/**
 * What the chain costs in Node.js starts alone: `node -e 0` exec'd as the plugins are, once per
 * plugin of the chain: the floor of a process per call.
 */
async function nodeFloor(side) {
  let ms = 0;
  for (const _ of conflist(side).plugins) {
    const r = await side.exec(process.execPath, { args: ['-e', '0'] });
    if (r.code !== 0) throw new Error(`node -e 0 exited ${r.code}`);
    ms += r.wallMs;
  }
  return ms;
}

/**
 * Each plugin's VERSION, interleaved: ours through the workers, the reference's, and `/bin/true`
 * (any process's exec) on the same side; medians of the wall time in ms.
 */
async function versions(workers, ref, rounds) {
  const plugins = ['bridge', 'host-local', 'portmap', 'firewall', 'tuning', 'loopback'];
  const times = { ours: [], ref: [], floor: [] };
  const from = new Map();
  for (let i = 0; i < rounds; i++) {
    for (const plugin of plugins) {
      const env = { PATH: process.env.PATH, CNI_COMMAND: 'VERSION', CNI_TS_TIMING: '1', ...workers.env };
      const ours = await workers.exec(join(workers.binDir, plugin), { env, input: '{"cniVersion":"1.0.0"}' });
      from.set(timingOf(ours.err)?.startedFrom, (from.get(timingOf(ours.err)?.startedFrom) ?? 0) + 1);
      times.ours.push(ours.wallMs);
      times.ref.push((await ref.exec(join(ref.binDir, plugin), { env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}' })).wallMs);
      times.floor.push((await workers.exec('/bin/true')).wallMs);
    }
  }
  const [o, r, f] = [median(times.ours), median(times.ref), median(times.floor)];
  console.log(`\nVERSION of ${plugins.join(', ')}, ${rounds} interleaved rounds, median wall ms (from spawn to exit, as a runtime sees it):`);
  console.log(`  ours (workers) ${o.toFixed(2)}   reference ${r.toFixed(2)}   ratio ${(o / r).toFixed(2)}x   /bin/true ${f.toFixed(2)}`);
  console.log(`  above the exec floor: ours ${(o - f).toFixed(2)}, reference ${(r - f).toFixed(2)}; ours served by: ${JSON.stringify(Object.fromEntries(from))}`);
}

async function addChain(side, ctr) {
  let prev;
  for (const plugin of conflist(side).plugins) prev = (await execPlugin(side, plugin, 'ADD', ctr, prev)) ?? prev;
  ctr.result = prev;
}

async function delChain(side, ctr) {
  for (const plugin of [...conflist(side).plugins].reverse()) await execPlugin(side, plugin, 'DEL', ctr, ctr.result);
}

function newContainer(side) {
  const n = side.nextId++;
  const ctr = { id: `bench-${side.name}-${n}`, netns: `cni-bc-${side.name}-${process.pid}-${n}`, hostPort: 10000 + n };
  run('ip', 'netns', 'add', ctr.netns);
  return ctr;
}

const timed = async (fn) => {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
};

/** Attaches containers until `count` are there, on both sides at once (one process each). */
async function fillTo(sides, count) {
  await Promise.all(
    sides.map(async (side) => {
      while (side.containers.length < count) {
        const ctr = newContainer(side);
        await addChain(side, ctr);
        side.containers.push(ctr);
      }
    }),
  );
}

/** Ours, per plugin and verb (CNI_TS_TIMING): where the wall time goes, medians in ms. */
function breakdown(timings) {
  const groups = new Map();
  for (const t of timings) groups.set(`${t.plugin} ${t.command}`, [...(groups.get(`${t.plugin} ${t.command}`) ?? []), t]);
  for (const [key, ts] of groups) {
    const m = (f) => median(ts.map(f)).toFixed(1);
    console.log(
      `    ${key.padEnd(16)} wall ${m((t) => t.wallMs)}  start ${m((t) => t.pluginStartMs)}  verb ${m((t) => t.verbMs ?? 0)}  after ${m((t) => t.wallMs - t.endMs)}  wall-verb ${m((t) => t.wallMs - (t.verbMs ?? 0))}  peak RSS ${(median(ts.map((t) => t.maxRssBytes)) / 2 ** 20).toFixed(0)} MiB`,
    );
  }
}

/**
 * The processes of a side, in its host namespace: ours are those whose executable or command line is in this checkout
 * (clients, launchers, Node.js plugins, the supervisor and its workers, idle ones included); the
 * reference's those whose executable is in its directory. Sums of resident (RSS) and proportional
 * (PSS: shared pages divided among the processes sharing them) memory, in MiB.
 */
function memoryOf(side) {
  const ours = side.name === 'ref' ? (exe) => exe.startsWith(`${SIDES.reference}/`) : (exe, cmd) => (exe.startsWith(ROOT) || cmd.includes(ROOT)) && !cmd.includes('bench-runner');
  const host = statSync(`/run/netns/${side.host}`).ino;
  let rss = 0;
  let pss = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      // the side's processes all run in its host namespace (the workers side's supervisor and workers too)
      if (statSync(`/proc/${pid}/ns/net`).ino !== host || !ours(readlinkSync(`/proc/${pid}/exe`), readFileSync(`/proc/${pid}/cmdline`, 'latin1'))) continue;
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
      rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return { rss: rss / 1024, pss: pss / 1024 };
}

/** `n` containers' chains started at once on `side`: successes, median and p99 chain ADD, peak summed memory; then their DELs. */
async function burst(side, n) {
  const ctrs = Array.from({ length: n }, () => newContainer(side));
  const peak = { rss: 0, pss: 0 };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const m = memoryOf(side);
      peak.rss = Math.max(peak.rss, m.rss);
      peak.pss = Math.max(peak.pss, m.pss);
      await sleep(20);
    }
  })();
  const errors = new Set();
  const times = await Promise.all(ctrs.map((ctr) => timed(() => addChain(side, ctr)).catch((err) => void errors.add(err.message.slice(0, 300)))));
  sampling = false;
  await sampler;
  for (const ctr of ctrs) await delChain(side, ctr).catch(() => undefined);
  for (const ctr of ctrs) run('ip', 'netns', 'del', ctr.netns);
  const ok = times.filter((t) => t !== undefined).sort((a, b) => a - b);
  const p99 = ok[Math.min(ok.length - 1, Math.ceil(ok.length * 0.99) - 1)];
  console.log(
    `  ${side.name.padEnd(8)} ${String(ok.length).padStart(3)}/${n} succeeded   chain ADD median ${median(ok).toFixed(0)} ms, p99 ${p99.toFixed(0)} ms   peak memory of its processes: RSS ${peak.rss.toFixed(0)} MiB, PSS ${peak.pss.toFixed(0)} MiB`,
  );
  for (const error of errors) console.log(`    failed: ${error}`);
}

// CNI_TS_WORKERS_HELLO_MS: how long the workers side's clients wait for a worker before they run the plugin themselves
const helloWait = process.env.CNI_TS_WORKERS_HELLO_MS ? { CNI_TS_WORKERS_HELLO_MS: process.env.CNI_TS_WORKERS_HELLO_MS } : {};
const kib = (pid, field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0);
const workerPids = (side) => readFileSync(`/proc/${side.supervisor.pid}/task/${side.supervisor.pid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean);

/** Resident memory (MiB) of the workers side's supervisor and of each of its workers. */
function workersRss(side) {
  return { supervisor: kib(side.supervisor.pid, 'VmRSS') / 1024, workers: workerPids(side).map((pid) => kib(pid, 'VmRSS') / 1024) };
}

/**
 * Memory over `cycles` chain ADD/DEL cycles: the supervisor's after 100 and after all; and, since a
 * worker is replaced after its share of calls, each worker's peak (VmHWM, read until it exits) over
 * its whole life: the first workers' against the last ones' shows whether anything grows across
 * generations. A worker's RSS at one moment says mostly how far into its life it is.
 */
async function leakCheck(side, cycles) {
  const at = {};
  const peaks = new Map();
  for (let i = 1; i <= cycles; i++) {
    const ctr = newContainer(side);
    await addChain(side, ctr);
    await delChain(side, ctr);
    run('ip', 'netns', 'del', ctr.netns);
    for (const pid of workerPids(side)) {
      try {
        peaks.set(pid, kib(pid, 'VmHWM') / 1024);
      } catch {
        // exited meanwhile: its last reading stands
      }
    }
    if (i === 100 || i === cycles) at[i] = workersRss(side);
  }
  const live = new Set(workerPids(side));
  const lives = [...peaks].filter(([pid]) => !live.has(pid)).map(([, peak]) => peak);
  const pool = live.size;
  const show = (xs) => xs.map((x) => x.toFixed(1)).join(' ');
  console.log(`\nMemory over ${cycles} chain ADD/DEL cycles (workers side, ${lives.length} workers lived and were replaced):`);
  console.log(`  supervisor RSS after 100 cycles ${at[100].supervisor.toFixed(1)} MiB, after ${cycles} ${at[cycles].supervisor.toFixed(1)} MiB`);
  console.log(
    `  peak RSS over a worker's life: the first ${pool} ${show(lives.slice(0, pool))} MiB, the last ${pool} ${show(lives.slice(-pool))} MiB (median of all ${median(lives).toFixed(1)})`,
  );
  console.log(`  workers' RSS at that moment: after 100 ${show(at[100].workers)} MiB, after ${cycles} ${show(at[cycles].workers)} MiB`);
}

const sides = [makeSide('workers', SIDES.ours, helloWait), makeSide('ref', SIDES.reference), makeSide('ours', SIDES.ours, { CNI_TS_WORKERS: 'off' })];
if (process.env.CNI_TS_BENCH_BEFORE) sides.push(makeSide('before', process.env.CNI_TS_BENCH_BEFORE));
try {
  await startWorkers(sides[0]);
  console.log(`Podman's chain (bridge + host-local, portmap, firewall, tuning), ${CYCLES} interleaved ADD/DEL cycles per count; median ms of wall time`);
  const others = sides.filter((side) => side.name !== 'ref');
  console.log(
    'containers'.padEnd(12),
    'ref ADD'.padStart(9),
    'ref DEL'.padStart(9),
    ...others.flatMap((o) => [`${o.name} ADD`.padStart(11), 'ratio'.padStart(7), `${o.name} DEL`.padStart(11), 'ratio'.padStart(7)]),
  );
  for (const count of COUNTS) {
    const active = sides.filter((side) => side.name !== 'ours' || count <= FALLBACK_MAX);
    await fillTo(active, count);
    const times = Object.fromEntries(sides.map((s) => [s.name, { add: [NaN], del: [NaN] }]));
    for (const side of active) times[side.name] = { add: [], del: [] };
    const floor = [];
    sides[0].timings = [];
    for (let i = 0; i < CYCLES; i++) {
      const order = i % 2 ? [...active].reverse() : active;
      const ctrs = new Map(order.map((side) => [side, newContainer(side)]));
      for (const side of order) times[side.name].add.push(await timed(() => addChain(side, ctrs.get(side))));
      for (const side of order) times[side.name].del.push(await timed(() => delChain(side, ctrs.get(side))));
      floor.push(await nodeFloor(sides[0]));
      for (const ctr of ctrs.values()) run('ip', 'netns', 'del', ctr.netns);
    }
    const m = Object.fromEntries(sides.map((side) => [side.name, { add: median(times[side.name].add), del: median(times[side.name].del) }]));
    console.log(
      String(count).padEnd(12),
      m.ref.add.toFixed(1).padStart(9),
      m.ref.del.toFixed(1).padStart(9),
      ...others.flatMap((o) => [
        m[o.name].add.toFixed(1).padStart(11),
        `${(m[o.name].add / m.ref.add).toFixed(2)}x`.padStart(7),
        m[o.name].del.toFixed(1).padStart(11),
        `${(m[o.name].del / m.ref.del).toFixed(2)}x`.padStart(7),
      ]),
    );
    const nodeStarts = median(floor);
    console.log(
      `    Node.js floor: ${conflist(sides[0]).plugins.length} × \`node -e 0\` exec'd the same way ${nodeStarts.toFixed(1)} ms = ${(nodeStarts / m.ref.add).toFixed(2)}x the reference's ADD, ${(nodeStarts / m.ref.del).toFixed(2)}x its DEL`,
    );
    breakdown(sides[0].timings);
    const served = sides[0].timings.filter((t) => t.startedFrom === 'worker').length;
    console.log(`    workers served ${served} of ${sides[0].timings.length} plugin calls; the rest fell back to the launcher`);
  }
  await versions(sides[0], sides[1], Math.max(CYCLES, 5));
  if (COUNTS.some((count) => count > FALLBACK_MAX)) console.log(`(the side without workers takes part up to ${FALLBACK_MAX} containers: CNI_TS_BENCH_FALLBACK_MAX)`);
  if (LEAK_CYCLES >= 100) await leakCheck(sides[0], LEAK_CYCLES);
  if (BURST > 0) {
    console.log(`\nBurst: ${BURST} containers' chains started at once, one side at a time (the workers side's idle pool counts)`);
    for (const side of sides) await burst(side, BURST);
  }
} finally {
  for (const side of sides) {
    side.supervisor?.kill('SIGTERM');
    side.runner.kill('SIGKILL');
    side.holder.kill('SIGKILL');
    for (const ctr of side.containers) spawnSync('ip', ['netns', 'del', ctr.netns]);
    spawnSync('ip', ['netns', 'del', side.host]);
    rmSync(side.dir, { recursive: true, force: true });
  }
}
