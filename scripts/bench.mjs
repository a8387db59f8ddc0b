// Side-by-side latency of our plugins and the reference Go plugins (/usr/lib/cni, Debian's 1.1.1: configs use cniVersion 1.0.0), exec'd exactly
// as a runtime does. Runs are interleaved so machine noise hits both alike; prints medians and p90.
// Usage (root): node scripts/bench.mjs [iterations]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ITERATIONS = Number(process.argv[2] ?? 30);
const OURS = join(import.meta.dirname, '..', 'bin');
const REFERENCE = '/usr/lib/cni';
const ns = `cni-bench-${process.pid}`;
const hostNs = `cni-bench-host-${process.pid}`;
const dataDir = mkdtempSync(join(tmpdir(), 'cni-bench-'));

function timeOnce(executable, command, stdin, extraEnv = {}, inHostNs = false) {
  const env = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: 'bench',
    CNI_NETNS: `/run/netns/${ns}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: OURS,
    CNI_TS_STATE_DIR: join(dataDir, 'state'),
    ...extraEnv,
  };
  const [file, args] = inHostNs ? ['ip', ['netns', 'exec', hostNs, executable]] : [executable, []];
  const start = process.hrtime.bigint();
  const r = spawnSync(file, args, { env, input: JSON.stringify(stdin) });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${executable} ${command} failed: ${r.stdout}${r.stderr}`);
  return ms;
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p90: s[Math.floor(s.length * 0.9)] };
};

const ipam = (name) => ({
  cniVersion: '1.0.0',
  name,
  type: 'host-local',
  ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.201.0.0/16' }], [{ subnet: 'fd20:1::/64' }]] },
});
const lo = { cniVersion: '1.0.0', name: 'bench-lo', type: 'loopback' };
// ipMasq off so both sides do the same work (Debian's reference masquerades with iptables)
const bridge = (name) => ({ cniVersion: '1.0.0', name, type: 'bridge', bridge: 'bench0', isGateway: true, isDefaultGateway: true, ipam: ipam(name).ipam });
const bridgeMasq = (name) => ({ ...bridge(name), ipMasq: true });
const inHost = (dir, command, conf, plugin = 'bridge') => timeOnce(join(dir, plugin), command, conf, { CNI_PATH: dir }, true);
// chained after bridge on a host whose iptables FORWARD policy drops (both write the same iptables rules)
const firewall = {
  cniVersion: '1.0.0',
  name: 'bench-fw',
  type: 'firewall',
  backend: 'iptables',
  prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'bench0' }], ips: [{ address: '10.201.0.5/16' }, { address: 'fd20:1::5/64' }] },
};

const scenarios = [
  { name: 'node, empty script (floor)', ours: () => timeOnce(process.execPath, 'VERSION', {}, {}), ref: null },
  { name: 'host-local VERSION', run: (dir) => timeOnce(join(dir, 'host-local'), 'VERSION', { cniVersion: '1.1.0' }) },
  {
    name: 'host-local ADD (dual stack)',
    run: (dir, tag) => {
      const t = timeOnce(join(dir, 'host-local'), 'ADD', ipam(`bench-${tag}`));
      timeOnce(join(dir, 'host-local'), 'DEL', ipam(`bench-${tag}`));
      return t;
    },
  },
  {
    name: 'host-local DEL',
    run: (dir, tag) => {
      timeOnce(join(dir, 'host-local'), 'ADD', ipam(`bench-${tag}`));
      return timeOnce(join(dir, 'host-local'), 'DEL', ipam(`bench-${tag}`));
    },
  },
  { name: 'loopback ADD', run: (dir) => timeOnce(join(dir, 'loopback'), 'ADD', lo) },
  {
    name: 'bridge ADD (dual stack)',
    run: (dir, tag) => {
      const t = inHost(dir, 'ADD', bridge(`bridge-${tag}`));
      inHost(dir, 'DEL', bridge(`bridge-${tag}`));
      return t;
    },
  },
  {
    name: 'bridge DEL',
    run: (dir, tag) => {
      inHost(dir, 'ADD', bridge(`bridge-${tag}`));
      return inHost(dir, 'DEL', bridge(`bridge-${tag}`));
    },
  },
  {
    name: 'bridge ADD + ipMasq (ours: nft)',
    ours: () => {
      const t = inHost(OURS, 'ADD', bridgeMasq('bridge-masq'));
      inHost(OURS, 'DEL', bridgeMasq('bridge-masq'));
      return t;
    },
    ref: null,
  },
  { name: 'loopback DEL', run: (dir) => timeOnce(join(dir, 'loopback'), 'DEL', lo) },
  {
    name: 'firewall ADD (iptables)',
    run: (dir) => {
      const t = inHost(dir, 'ADD', firewall, 'firewall');
      inHost(dir, 'DEL', firewall, 'firewall');
      return t;
    },
  },
  {
    name: 'firewall DEL (iptables)',
    run: (dir) => {
      inHost(dir, 'ADD', firewall, 'firewall');
      return inHost(dir, 'DEL', firewall, 'firewall');
    },
  },
];

try {
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['netns', 'add', hostNs]);
  for (const tool of ['iptables', 'ip6tables']) execFileSync('ip', ['netns', 'exec', hostNs, tool, '-P', 'FORWARD', 'DROP']);
  console.log(`${ITERATIONS} interleaved runs each; milliseconds of wall time per exec\n`);
  console.log('scenario'.padEnd(30), 'ours median/p90'.padEnd(18), 'reference median/p90'.padEnd(22), 'ratio');
  for (const s of scenarios) {
    const ours = [];
    const ref = [];
    for (let i = 0; i < ITERATIONS; i++) {
      if (s.run) {
        ours.push(s.run(OURS, 'ours'));
        ref.push(s.run(REFERENCE, 'ref'));
      } else ours.push(s.ours());
    }
    const o = stats(ours);
    const r = ref.length ? stats(ref) : undefined;
    console.log(
      s.name.padEnd(30),
      `${o.median.toFixed(1)} / ${o.p90.toFixed(1)}`.padEnd(18),
      (r ? `${r.median.toFixed(1)} / ${r.p90.toFixed(1)}` : '-').padEnd(22),
      r ? `${(o.median / r.median).toFixed(1)}x` : '',
    );
  }
} finally {
  spawnSync('ip', ['netns', 'del', ns]);
  spawnSync('ip', ['netns', 'del', hostNs]);
  rmSync(dataDir, { recursive: true, force: true });
}
