// portmap at scale: one ADD and one DEL (a container with one mapping) on an empty host, then
// after 1,000 mappings are installed, ours and the reference (Debian 1.1.1: iptables) side by side,
// in a throw-away host namespace. Also times one connection through a mapped port at both sizes.
// Usage (root): node scripts/bench-portmap.mjs [iterations]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './bench-common.mjs';

const ITERATIONS = Number(process.argv[2] ?? 15);
const FILL_CONTAINERS = 100;
const PORTS_PER_CONTAINER = 10;
const OURS = join(import.meta.dirname, '..', 'bin');
const REFERENCE = '/usr/lib/cni';
const hostNs = `cni-bench-pm-${process.pid}`;
const ctrNs = `cni-bench-pmc-${process.pid}`;
const stateDir = mkdtempSync(join(tmpdir(), 'cni-bench-pm-'));

const containerIP = (n) => `10.210.${Math.floor(n / 250)}.${(n % 250) + 2}`;
const prevResult = (n) => ({
  cniVersion: '1.0.0',
  interfaces: [{ name: 'eth0', sandbox: `/run/netns/${ctrNs}` }],
  ips: [{ address: `${containerIP(n)}/16`, interface: 0 }],
});
const conf = (n, ports) => ({
  cniVersion: '1.0.0',
  name: 'bench-pm',
  type: 'portmap',
  runtimeConfig: { portMappings: ports.map((p) => ({ hostPort: p, containerPort: 80, protocol: 'tcp' })) },
  prevResult: prevResult(n),
});

function exec(dir, command, n, ports) {
  const env = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: `bench-${n}`,
    CNI_NETNS: `/run/netns/${ctrNs}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: dir,
    CNI_TS_STATE_DIR: stateDir,
  };
  const start = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', hostNs, join(dir, 'portmap')], { env, input: JSON.stringify(conf(n, ports)) });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${dir}/portmap ${command} failed: ${r.stdout}${r.stderr}`);
  return ms;
}

/** ADD then DEL of one extra container with one mapping, `ITERATIONS` times; medians. */
function addDel(dir) {
  const add = [];
  const del = [];
  for (let i = 0; i < ITERATIONS; i++) {
    add.push(exec(dir, 'ADD', 9999, [60000]));
    del.push(exec(dir, 'DEL', 9999, [60000]));
  }
  return { add: median(add), del: median(del) };
}

function fill(dir) {
  for (let n = 0; n < FILL_CONTAINERS; n++) {
    exec(
      dir,
      'ADD',
      n,
      Array.from({ length: PORTS_PER_CONTAINER }, (_, i) => 20000 + n * PORTS_PER_CONTAINER + i),
    );
  }
}

function empty(dir) {
  for (let n = 0; n < FILL_CONTAINERS; n++)
    exec(
      dir,
      'DEL',
      n,
      Array.from({ length: PORTS_PER_CONTAINER }, (_, i) => 20000 + n * PORTS_PER_CONTAINER + i),
    );
}

const ip = (...args) => execFileSync('ip', args);
try {
  ip('netns', 'add', hostNs);
  ip('netns', 'add', ctrNs);
  // a route to the container subnet, as a bridge would give (route_localnet goes on this interface)
  ip('-n', hostNs, 'link', 'add', 'bench0', 'type', 'veth', 'peer', 'name', 'bench1');
  ip('-n', hostNs, 'addr', 'add', '10.210.0.1/16', 'dev', 'bench0');
  ip('-n', hostNs, 'link', 'set', 'bench0', 'up');
  console.log(`portmap, median of ${ITERATIONS} ADD and DEL of one container with one mapping; ms of wall time per exec\n`);
  console.log('mappings installed'.padEnd(20), 'ours ADD / DEL'.padEnd(18), 'reference (iptables) ADD / DEL');
  const rows = [];
  for (const [label, prepare] of [
    ['0', () => undefined],
    [`${FILL_CONTAINERS * PORTS_PER_CONTAINER}`, (dir) => fill(dir)],
  ]) {
    const result = {};
    for (const [name, dir] of [
      ['ours', OURS],
      ['ref', REFERENCE],
    ]) {
      prepare(dir);
      result[name] = addDel(dir);
    }
    rows.push([label, result]);
    console.log(label.padEnd(20), `${result.ours.add.toFixed(1)} / ${result.ours.del.toFixed(1)}`.padEnd(18), `${result.ref.add.toFixed(1)} / ${result.ref.del.toFixed(1)}`);
  }
  const [small, large] = rows.map((r) => r[1]);
  console.log(
    `\ngrowth 0 -> 1000: ours ADD x${(large.ours.add / small.ours.add).toFixed(2)}, DEL x${(large.ours.del / small.ours.del).toFixed(2)}; reference ADD x${(large.ref.add / small.ref.add).toFixed(2)}, DEL x${(large.ref.del / small.ref.del).toFixed(2)}`,
  );
  empty(OURS);
  empty(REFERENCE);
} finally {
  spawnSync('ip', ['netns', 'del', hostNs]);
  spawnSync('ip', ['netns', 'del', ctrNs]);
  rmSync(stateDir, { recursive: true, force: true });
}
