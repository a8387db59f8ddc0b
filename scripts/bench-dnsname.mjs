// dnsname at scale: ADD and DEL of one container on a network with 0 and with 1,000 names, ours and
// containers/dnsname (Debian's golang-github-containernetworking-plugin-dnsname) side by side, each
// on its own bridge in one throw-away host namespace; then 1,000 lookups from a container to each
// network's dnsmasq (median, p99).
// Usage (root): node scripts/bench-dnsname.mjs [iterations]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ITERATIONS = Number(process.argv[2] ?? 15);
const FILL = 1000;
const PARALLEL = 4;
const DNS_CLIENT = join(import.meta.dirname, '..', 'test', 'helpers', 'dns.mjs');
const hostNs = `cni-bench-dns-${process.pid}`;
const ctrNs = `cni-bench-dnsc-${process.pid}`;
const runDir = mkdtempSync(join(tmpdir(), 'cni-bench-dns-'));
const sides = [
  { label: 'ours', dir: join(import.meta.dirname, '..', 'bin'), octet: 211 },
  { label: 'reference', dir: '/usr/lib/cni', octet: 212 },
].map((s) => ({ ...s, network: `bench-dns-${s.label}`, bridge: `benchdns${s.octet}`, gateway: `10.${s.octet}.0.1` }));

const ipOf = (side, n) => `10.${side.octet}.${Math.floor(n / 250)}.${(n % 250) + 2}`;
const stdin = (side, n) =>
  JSON.stringify({
    cniVersion: '0.4.0',
    name: side.network,
    type: 'dnsname',
    domainName: 'dns.podman',
    capabilities: { aliases: true },
    runtimeConfig: { aliases: { [side.network]: [`alias${n}`] } },
    prevResult: {
      cniVersion: '0.4.0',
      interfaces: [{ name: side.bridge }, { name: 'veth0' }, { name: 'eth0', sandbox: `/run/netns/${ctrNs}` }],
      ips: [{ version: '4', address: `${ipOf(side, n)}/16`, gateway: side.gateway, interface: 2 }],
      dns: {},
    },
  });
const env = (side, command, n) => ({
  PATH: process.env.PATH,
  CNI_COMMAND: command,
  CNI_CONTAINERID: `bench-${n}`,
  CNI_NETNS: `/run/netns/${ctrNs}`,
  CNI_IFNAME: 'eth0',
  CNI_PATH: side.dir,
  CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAME=ctr${n}`,
  XDG_RUNTIME_DIR: join(runDir, side.label),
  CNI_TS_STATE_DIR: join(runDir, 'state'),
});

function exec(side, command, n) {
  const start = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', hostNs, join(side.dir, 'dnsname')], { env: env(side, command, n), input: stdin(side, n) });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${side.label} dnsname ${command} failed: ${r.stdout}${r.stderr}`);
  return ms;
}

/** `count` ADDs (or DELs), PARALLEL at a time. */
async function many(side, command, count) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      await new Promise((resolve, reject) => {
        const child = spawn('ip', ['netns', 'exec', hostNs, join(side.dir, 'dnsname')], { env: env(side, command, n), stdio: ['pipe', 'ignore', 'inherit'] });
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${side.label} ${command} ${n} exited ${code}`))));
        child.stdin.end(stdin(side, n));
      });
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];

/** ADD then DEL of one extra container, ITERATIONS times, the two sides interleaved; medians. */
function addDel() {
  const times = Object.fromEntries(sides.map((s) => [s.label, { add: [], del: [] }]));
  for (let i = 0; i < ITERATIONS; i++) {
    for (const side of sides) {
      times[side.label].add.push(exec(side, 'ADD', 9999));
      times[side.label].del.push(exec(side, 'DEL', 9999));
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, { add: quantile(v.add, 0.5), del: quantile(v.del, 0.5) }]));
}

const ip = (...args) => execFileSync('ip', args);
try {
  ip('netns', 'add', hostNs);
  ip('netns', 'add', ctrNs);
  for (const side of sides) {
    ip('-n', hostNs, 'link', 'add', side.bridge, 'type', 'bridge');
    ip('-n', hostNs, 'addr', 'add', `${side.gateway}/16`, 'dev', side.bridge);
    ip('-n', hostNs, 'link', 'set', side.bridge, 'up');
    // the container's way to this network's DNS server
    ip('-n', hostNs, 'link', 'add', `v${side.octet}`, 'type', 'veth', 'peer', 'name', `eth${side.octet}`, 'netns', ctrNs);
    ip('-n', hostNs, 'link', 'set', `v${side.octet}`, 'master', side.bridge, 'up');
    ip('-n', ctrNs, 'addr', 'add', `10.${side.octet}.255.254/16`, 'dev', `eth${side.octet}`);
    ip('-n', ctrNs, 'link', 'set', `eth${side.octet}`, 'up');
  }
  // a first container on each network, so both dnsmasq run before anything is timed
  for (const side of sides) exec(side, 'ADD', 0);
  const small = addDel();
  for (const side of sides) await many(side, 'ADD', FILL);
  const large = addDel();

  console.log(`dnsname, median of ${ITERATIONS} ADD and DEL of one container; ms of wall time per exec\n`);
  console.log('names on the network'.padEnd(22), 'ours ADD / DEL'.padEnd(18), 'reference ADD / DEL'.padEnd(22), 'ratio ADD / DEL');
  for (const [label, r] of [
    ['1', small],
    [String(FILL), large],
  ]) {
    console.log(
      label.padEnd(22),
      `${r.ours.add.toFixed(1)} / ${r.ours.del.toFixed(1)}`.padEnd(18),
      `${r.reference.add.toFixed(1)} / ${r.reference.del.toFixed(1)}`.padEnd(22),
      `${(r.ours.add / r.reference.add).toFixed(2)}x / ${(r.ours.del / r.reference.del).toFixed(2)}x`,
    );
  }
  console.log(
    `\nADD at ${FILL} names / ADD at 1 name: ours x${(large.ours.add / small.ours.add).toFixed(2)}, reference x${(large.reference.add / small.reference.add).toFixed(2)}`,
  );

  console.log(`\n1,000 lookups from a container, one at a time (names and aliases of the ${FILL} containers); ms`);
  const names = Array.from({ length: 50 }, (_, i) => (i % 2 ? `ctr${i * 17}` : `alias${i * 19}.dns.podman`));
  for (const side of sides) {
    const out = execFileSync('ip', ['netns', 'exec', ctrNs, process.execPath, DNS_CLIENT, 'time', side.gateway, '1000', ...names], { encoding: 'utf8' });
    const latencies = JSON.parse(out);
    console.log(`${side.label.padEnd(10)} median ${quantile(latencies, 0.5).toFixed(3)}  p99 ${quantile(latencies, 0.99).toFixed(3)}`);
  }
  for (const side of sides) await many(side, 'DEL', FILL);
} finally {
  // a dnsmasq outlives its namespace's name: stop ours and the reference's by their pidfiles
  spawnSync('sh', ['-c', `for f in ${runDir}/*/containers/cni/dnsname/*/pidfile; do [ -f "$f" ] && kill "$(cat "$f")"; done`]);
  spawnSync('ip', ['netns', 'del', hostNs]);
  spawnSync('ip', ['netns', 'del', ctrNs]);
  rmSync(runDir, { recursive: true, force: true });
}
