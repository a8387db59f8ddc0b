// dhcp against a real DHCP server: ADD (DISCOVER, OFFER, REQUEST, ACK) and DEL (RELEASE) of one
// container's lease, ours (bin/dhcp and its `dhcp daemon`) beside the reference (/usr/lib/cni/dhcp
// and its own daemon, Debian's 1.1.1), interleaved, against one dnsmasq in a throw-away LAN
// namespace. Each plugin talks only to its own daemon: each side has its daemon (in a throw-away
// node namespace), its socket and its container namespace (eth0 a port of the LAN's bridge). For
// ours, CNI_TS_TIMING=1 also reports the verb's time (the plugin waiting for its daemon's answer).
// Daemons and dnsmasq are stopped, and the namespaces and files removed, even when a step fails.
// Usage (root): node scripts/bench-dhcp.mjs [iterations]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, timingOf } from './bench-common.mjs';

const ITERATIONS = Number(process.argv[2] ?? 15);
const runDir = mkdtempSync(join(tmpdir(), 'cni-bench-dhcp-'));
const lanNs = `cni-bench-dhcpl-${process.pid}`;
const nodeNs = `cni-bench-dhcpn-${process.pid}`;
const NET = { prefix: '10.213.0', server: '10.213.0.1' };
const sides = [
  { label: 'ours', executable: join(import.meta.dirname, '..', 'bin', 'dhcp'), ctrNs: `cni-bench-dhcpo-${process.pid}` },
  { label: 'reference', executable: '/usr/lib/cni/dhcp', ctrNs: `cni-bench-dhcpr-${process.pid}` },
].map((s) => ({ ...s, socket: join(runDir, `${s.label}.sock`), log: join(runDir, `${s.label}.log`) }));
const dnsmasqLog = join(runDir, 'dnsmasq.log');
const dnsmasqLeases = join(runDir, 'dnsmasq.leases');

const namespaces = [];
const groups = [];
let cleaned = false;

/** Kills every process group started (SIGTERM, then SIGKILL after 3 s), deletes the namespaces and the directory; once. */
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const pid of groups) signalGroup(pid, 'SIGTERM');
  const end = Date.now() + 3000;
  while (groups.some(groupAlive) && Date.now() < end) sleep(50);
  for (const pid of groups.filter(groupAlive)) signalGroup(pid, 'SIGKILL');
  for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(runDir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(signal, () => {
    cleanup();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
/** A process of the group still runs (its zombies do not count: this script reaps nothing while it blocks). */
function groupAlive(pgid) {
  return readdirSync('/proc')
    .filter((f) => /^\d+$/.test(f))
    .some((pid) => {
      const s = procStat(pid);
      return s !== undefined && s.state !== 'Z' && s.pgrp === pgid;
    });
}
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}
/** The process is gone or a zombie. */
const exited = (pid) => (procStat(pid)?.state ?? 'Z') === 'Z';
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Starts a long-running process in its own process group (so that cleanup() ends it with its children), its output in `log`. */
function startGroup(log, command, args) {
  const fd = openSync(log, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  groups.push(child.pid);
  child.unref();
  return child;
}

/** Polls `check` until it holds; fails after `ms`, or at once when the process `pid` (if given) is gone, with `log`. */
function waitFor(what, check, log, pid, ms = 10_000) {
  const end = Date.now() + ms;
  while (!check()) {
    const failed = pid !== undefined && exited(pid) ? 'it exited' : Date.now() > end ? 'timed out' : undefined;
    if (failed) throw new Error(`waiting for ${what}: ${failed}${existsSync(log) ? `; its output:\n${readFileSync(log, 'utf8')}` : ''}`);
    sleep(50);
  }
}

const ip = (...args) => execFileSync('ip', args);
function addNamespace(name) {
  ip('netns', 'add', name);
  namespaces.push(name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
}

const conf = (side) => ({ cniVersion: '1.0.0', name: 'bench-dhcp', type: 'macvlan', ipam: { type: 'dhcp', daemonSocketPath: side.socket } });

/** One exec of a side's plugin; its wall time and, for ours, the timing line. */
function exec(side, command) {
  const env = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: `bench-${side.label}`,
    CNI_NETNS: `/run/netns/${side.ctrNs}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: join(side.executable, '..'),
    CNI_TS_TIMING: '1',
  };
  const start = process.hrtime.bigint();
  const r = spawnSync(side.executable, [], { env, input: JSON.stringify(conf(side)), encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${side.label} dhcp ${command} failed: ${r.stdout}${r.stderr}`);
  return { wall, verb: timingOf(r.stderr)?.verbMs };
}

const leasesAtServer = () => (existsSync(dnsmasqLeases) ? readFileSync(dnsmasqLeases, 'utf8').split('\n').filter(Boolean).length : 0);

try {
  addNamespace(lanNs);
  addNamespace(nodeNs);
  ip('-n', lanNs, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', lanNs, 'addr', 'add', `${NET.server}/24`, 'dev', 'br0');
  ip('-n', lanNs, 'link', 'set', 'br0', 'up');
  for (const [i, side] of sides.entries()) {
    addNamespace(side.ctrNs);
    ip('-n', lanNs, 'link', 'add', `port${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', side.ctrNs);
    ip('-n', lanNs, 'link', 'set', `port${i}`, 'master', 'br0', 'up');
  }
  const dnsmasq = startGroup(dnsmasqLog, 'ip', [
    'netns',
    'exec',
    lanNs,
    'dnsmasq',
    '--conf-file=/dev/null',
    '--keep-in-foreground',
    '--user=root',
    '--port=0',
    '--interface=br0',
    '--bind-interfaces',
    '--no-ping',
    `--dhcp-range=${NET.prefix}.50,${NET.prefix}.99,255.255.255.0,10m`,
    `--dhcp-leasefile=${dnsmasqLeases}`,
    `--dhcp-option=option:router,${NET.server}`,
    `--log-facility=${dnsmasqLog}`,
  ]);
  waitFor('dnsmasq', () => existsSync(dnsmasqLog) && readFileSync(dnsmasqLog, 'utf8').includes('DHCP, IP range'), dnsmasqLog, dnsmasq.pid);
  const [oursDaemon, referenceDaemon] = sides.map((side) => {
    const leaseDir = side.label === 'ours' ? ['-leasedir', join(runDir, 'leases')] : [];
    return startGroup(side.log, 'ip', ['netns', 'exec', nodeNs, side.executable, 'daemon', '-socketpath', side.socket, ...leaseDir]);
  });
  // ours says when it listens; the reference's socket file appears when it does
  waitFor('our daemon', () => existsSync(sides[0].log) && readFileSync(sides[0].log, 'utf8').includes('"msg":"listening"'), sides[0].log, oursDaemon.pid);
  waitFor('the reference daemon', () => existsSync(sides[1].socket), sides[1].log, referenceDaemon.pid);

  // one lease each first: the first exchange on a fresh interface (brought up by the daemon) is not timed
  for (const side of sides) {
    exec(side, 'ADD');
    exec(side, 'DEL');
  }
  const times = Object.fromEntries(sides.map((s) => [s.label, { add: [], del: [], addVerb: [], delVerb: [] }]));
  for (let i = 0; i < ITERATIONS; i++) {
    // alternate who goes first, so that neither always follows the other's RELEASE at the server
    for (const side of i % 2 ? [...sides].reverse() : sides) {
      const add = exec(side, 'ADD');
      const del = exec(side, 'DEL');
      const t = times[side.label];
      t.add.push(add.wall);
      t.del.push(del.wall);
      if (add.verb !== undefined) t.addVerb.push(add.verb);
      if (del.verb !== undefined) t.delVerb.push(del.verb);
    }
  }
  waitFor('dnsmasq to forget every lease (both DELs release)', () => leasesAtServer() === 0, dnsmasqLeases, dnsmasq.pid, 3000);

  const ours = times.ours;
  const ref = times.reference;
  console.log(`dhcp, median of ${ITERATIONS} ADD and DEL of one container's lease from dnsmasq, each side with its own daemon; ms of wall time per exec\n`);
  console.log('verb'.padEnd(6), 'ours'.padEnd(8), 'ours verb'.padEnd(11), 'reference'.padEnd(11), 'ratio');
  for (const [verb, o, v, r] of [
    ['ADD', ours.add, ours.addVerb, ref.add],
    ['DEL', ours.del, ours.delVerb, ref.del],
  ]) {
    console.log(
      verb.padEnd(6),
      median(o).toFixed(1).padEnd(8),
      (v.length ? median(v).toFixed(1) : '-').padEnd(11),
      median(r).toFixed(1).padEnd(11),
      `${(median(o) / median(r)).toFixed(2)}x`,
    );
  }
  console.log('\nleases left at the server: 0 (every DEL released its lease)');
} finally {
  cleanup();
}
