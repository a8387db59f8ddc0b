// Every plugin side by side with the reference Go plugins (/usr/lib/cni, Debian's 1.1.1: configs use
// cniVersion 1.0.0), exec'd exactly as a runtime does. Runs are interleaved so machine noise hits
// both alike. For ours, CNI_TS_TIMING=1 also reports how long the verb itself took (its kernel and
// disk work with the JavaScript driving it) and the peak resident memory.
// Columns: median wall; median above the floor (an empty node script, exec'd the same way: in the
// host namespace for the scenarios run there); the verb's median; the rest, i.e. start-up and exit
// (wall - floor - verb); peak RSS; the reference's median and the ratio of the medians.
// Usage (root): node scripts/bench.mjs [iterations]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, timingOf } from './bench-common.mjs';

const ITERATIONS = Number(process.argv[2] ?? 30);
const OURS = join(import.meta.dirname, '..', 'bin');
const REFERENCE = '/usr/lib/cni';
const ns = `cni-bench-${process.pid}`;
const hostNs = `cni-bench-host-${process.pid}`;
const dataDir = mkdtempSync(join(tmpdir(), 'cni-bench-'));

/** One exec; returns its wall time and, for ours, the timing line. */
function timeOnce(executable, command, stdin, extraEnv = {}, inHostNs = false) {
  const env = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: 'bench',
    CNI_NETNS: `/run/netns/${ns}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: OURS,
    CNI_TS_STATE_DIR: join(dataDir, 'state'),
    CNI_TS_TIMING: '1',
    ...extraEnv,
  };
  const [file, args] = inHostNs ? ['ip', ['netns', 'exec', hostNs, ...executable]] : [executable[0], executable.slice(1)];
  const start = process.hrtime.bigint();
  const r = spawnSync(file, args, { env, input: JSON.stringify(stdin), encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${executable.join(' ')} ${command} failed: ${r.stdout}${r.stderr}`);
  return { wall, ...timingOf(r.stderr) };
}

const ipamConf = (_name, subnet = '10.201.0.0/16') => ({ type: 'host-local', dataDir, ranges: [[{ subnet }], [{ subnet: 'fd20:1::/64' }]] });
const ipam = (name) => ({ cniVersion: '1.0.0', name, type: 'host-local', ipam: ipamConf(name) });
const staticIpam = { cniVersion: '1.0.0', name: 'bench-static', type: 'static', ipam: { type: 'static', addresses: [{ address: '10.203.0.5/24', gateway: '10.203.0.1' }] } };
const lo = { cniVersion: '1.0.0', name: 'bench-lo', type: 'loopback' };
// ipMasq off so both sides do the same work (Debian's reference masquerades with iptables)
const bridge = (name) => ({ cniVersion: '1.0.0', name, type: 'bridge', bridge: 'bench0', isGateway: true, isDefaultGateway: true, ipam: ipamConf(name) });
const bridgeMasq = (name) => ({ ...bridge(name), ipMasq: true });
const ptp = (name) => ({ cniVersion: '1.0.0', name, type: 'ptp', ipMasq: false, ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.204.0.0/16' }]] } });
// IPv4 only: with an IPv6 gateway both sides wait about a second for duplicate address detection on the LAN
const macvlan = (name) => ({ cniVersion: '1.0.0', name, type: 'macvlan', master: 'benchlan0', ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.206.0.0/16' }]] } });
const hostDevice = (name) => ({
  cniVersion: '1.0.0',
  name,
  type: 'host-device',
  device: 'benchhd0',
  ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.207.0.0/16' }]] },
});
const containerResult = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'benchv0' }, { name: 'eth5', sandbox: `/run/netns/${ns}` }],
  ips: [{ address: '10.205.0.5/16', interface: 1 }],
};
// chained after bridge on a host whose iptables FORWARD policy drops (both write the same iptables rules)
const firewall = { cniVersion: '1.0.0', name: 'bench-fw', type: 'firewall', backend: 'iptables', prevResult: containerResult };
const tuning = {
  cniVersion: '1.0.0',
  name: 'bench-tuning',
  type: 'tuning',
  sysctl: { 'net.ipv4.conf.eth5.arp_notify': '1' },
  dataDir: join(dataDir, 'tuning'),
  prevResult: containerResult,
};
const portmap = {
  cniVersion: '1.0.0',
  name: 'bench-pm',
  type: 'portmap',
  runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
  prevResult: containerResult,
};
const bandwidth = { cniVersion: '1.0.0', name: 'bench-bw', type: 'bandwidth', ingressRate: 8000000, ingressBurst: 80000, egressRate: 8000000, egressBurst: 80000 };

const inHost = (dir, command, conf, plugin = conf.type, env = {}) => timeOnce([join(dir, plugin)], command, conf, { CNI_PATH: dir, ...env }, true);
const chained = (dir, command, conf) => inHost(dir, command, conf, conf.type, { CNI_IFNAME: 'eth5' });
/** ADD then DEL, timing one of them; `setup`/`teardown` run around it untimed. */
const pair = (timedVerb, run) => (dir, tag) => {
  const add = run(dir, tag, 'ADD');
  const del = run(dir, tag, 'DEL');
  return timedVerb === 'ADD' ? add : del;
};

/** A bridge attachment in the host namespace, for the plugins chained after it (bandwidth needs its veth). */
function withBridgeAttachment(dir, tag, fn) {
  const bridgeExec = (command) =>
    spawnSync('ip', ['netns', 'exec', hostNs, join(dir, 'bridge')], {
      env: {
        PATH: process.env.PATH,
        CNI_COMMAND: command,
        CNI_CONTAINERID: `bw-${tag}`,
        CNI_NETNS: `/run/netns/${ns}`,
        CNI_IFNAME: 'eth9',
        CNI_PATH: dir,
        CNI_TS_STATE_DIR: join(dataDir, 'state'),
      },
      input: JSON.stringify(bridge(`bw-${tag}`)),
      encoding: 'utf8',
    }).stdout;
  const result = JSON.parse(bridgeExec('ADD'));
  try {
    return fn(result);
  } finally {
    bridgeExec('DEL');
  }
}

const scenarios = [
  { name: 'host-local VERSION', run: (dir) => timeOnce([join(dir, 'host-local')], 'VERSION', { cniVersion: '1.1.0' }) },
  { name: 'bridge VERSION', run: (dir) => timeOnce([join(dir, 'bridge')], 'VERSION', { cniVersion: '1.1.0' }) },
  ...['ADD', 'DEL'].map((verb) => ({
    name: `host-local ${verb} (dual stack)`,
    run: pair(verb, (dir, tag, cmd) => timeOnce([join(dir, 'host-local')], cmd, ipam(`bench-${tag}`))),
  })),
  ...['ADD', 'DEL'].map((verb) => ({ name: `static ${verb}`, run: pair(verb, (dir, _tag, cmd) => timeOnce([join(dir, 'static')], cmd, staticIpam)) })),
  { name: 'loopback ADD', run: (dir) => timeOnce([join(dir, 'loopback')], 'ADD', lo) },
  { name: 'loopback DEL', run: (dir) => timeOnce([join(dir, 'loopback')], 'DEL', lo) },
  ...['ADD', 'DEL'].map((verb) => ({ name: `bridge ${verb} (dual stack)`, host: true, run: pair(verb, (dir, tag, cmd) => inHost(dir, cmd, bridge(`bridge-${tag}`))) })),
  { name: 'bridge ADD + ipMasq (ours: nft)', host: true, ours: () => pair('ADD', (dir, _tag, cmd) => inHost(dir, cmd, bridgeMasq('bridge-masq')))(OURS, 'ours') },
  ...['ADD', 'DEL'].map((verb) => ({ name: `ptp ${verb}`, host: true, run: pair(verb, (dir, tag, cmd) => inHost(dir, cmd, ptp(`ptp-${tag}`), 'ptp', { CNI_IFNAME: 'eth1' })) })),
  ...['ADD', 'DEL'].map((verb) => ({
    name: `macvlan ${verb}`,
    host: true,
    run: pair(verb, (dir, tag, cmd) => inHost(dir, cmd, macvlan(`macvlan-${tag}`), 'macvlan', { CNI_IFNAME: 'eth2' })),
  })),
  ...['ADD', 'DEL'].map((verb) => ({
    name: `host-device ${verb}`,
    host: true,
    run: pair(verb, (dir, tag, cmd) => inHost(dir, cmd, hostDevice(`hostdev-${tag}`), 'host-device', { CNI_IFNAME: 'eth3' })),
  })),
  ...['ADD', 'DEL'].map((verb) => ({ name: `portmap ${verb} (ours: nft)`, host: true, run: pair(verb, (dir, _tag, cmd) => chained(dir, cmd, portmap)) })),
  ...['ADD', 'DEL'].map((verb) => ({ name: `firewall ${verb} (iptables)`, host: true, run: pair(verb, (dir, _tag, cmd) => chained(dir, cmd, firewall)) })),
  ...['ADD', 'DEL'].map((verb) => ({ name: `tuning ${verb}`, host: true, run: pair(verb, (dir, _tag, cmd) => chained(dir, cmd, tuning)) })),
  ...['ADD', 'DEL'].map((verb) => ({
    name: `bandwidth ${verb}`,
    host: true,
    run: (dir, tag) =>
      withBridgeAttachment(dir, tag, (prevResult) =>
        pair(verb, (d, _t, cmd) => inHost(d, cmd, { ...bandwidth, prevResult }, 'bandwidth', { CNI_CONTAINERID: `bw-${tag}`, CNI_IFNAME: 'eth9' }))(dir, tag),
      ),
  })),
];

const floors = { plain: [], host: [] };
const measureFloors = () => {
  floors.plain.push(timeOnce([process.execPath, '-e', '0'], 'VERSION', {}).wall);
  floors.host.push(timeOnce([process.execPath, '-e', '0'], 'VERSION', {}, {}, true).wall);
};

const ip = (...args) => execFileSync('ip', args);
try {
  ip('netns', 'add', ns);
  ip('netns', 'add', hostNs);
  // what the chained scenarios' prevResult describes: eth5 in the container, a route to it from the host
  ip('-n', ns, 'link', 'add', 'eth5', 'type', 'veth', 'peer', 'name', 'eth5p');
  ip('-n', hostNs, 'link', 'add', 'benchv0', 'type', 'veth', 'peer', 'name', 'benchv0p');
  ip('-n', hostNs, 'addr', 'add', '10.205.0.1/16', 'dev', 'benchv0');
  // the host's NICs: macvlan's master, and the device host-device moves into the container and back
  ip('-n', hostNs, 'link', 'add', 'benchlan0', 'type', 'veth', 'peer', 'name', 'benchlan0p');
  ip('-n', hostNs, 'link', 'add', 'benchhd0', 'type', 'veth', 'peer', 'name', 'benchhd0p');
  for (const link of ['benchv0', 'benchv0p', 'benchlan0', 'benchlan0p', 'benchhd0', 'benchhd0p']) ip('-n', hostNs, 'link', 'set', link, 'up');
  for (const tool of ['iptables', 'ip6tables']) execFileSync('ip', ['netns', 'exec', hostNs, tool, '-P', 'FORWARD', 'DROP']);
  console.log(`${ITERATIONS} interleaved runs each; milliseconds per exec (medians)`);
  console.log(`${process.version}; the floor is \`node -e 0\` exec'd the same way (in the host namespace for the scenarios run there)\n`);
  console.log(
    'scenario'.padEnd(32),
    'ours'.padStart(7),
    'above floor'.padStart(12),
    'verb'.padStart(7),
    'start+exit'.padStart(11),
    'peak RSS'.padStart(9),
    'reference'.padStart(10),
    'ratio'.padStart(7),
  );
  for (const s of scenarios) {
    const plugin = s.name.split(' ')[0];
    if (!existsSync(join(OURS, plugin))) {
      console.log(s.name.padEnd(32), `skipped: bin/${plugin} is not built`);
      continue;
    }
    const ours = [];
    const ref = [];
    const floorAt = floors[s.host ? 'host' : 'plain'].length;
    for (let i = 0; i < ITERATIONS; i++) {
      measureFloors();
      if (s.run) {
        ours.push(s.run(OURS, 'ours'));
        ref.push(s.run(REFERENCE, 'ref'));
      } else ours.push(s.ours());
    }
    const floor = median(floors[s.host ? 'host' : 'plain'].slice(floorAt));
    const wall = median(ours.map((o) => o.wall));
    const verb = median(ours.map((o) => o.verbMs ?? 0));
    const rss = median(ours.map((o) => o.maxRssBytes ?? 0)) / 2 ** 20;
    const r = ref.length ? median(ref.map((x) => x.wall)) : undefined;
    console.log(
      s.name.padEnd(32),
      wall.toFixed(1).padStart(7),
      (wall - floor).toFixed(1).padStart(12),
      verb.toFixed(1).padStart(7),
      (wall - floor - verb).toFixed(1).padStart(11),
      `${rss.toFixed(0)} MiB`.padStart(9),
      (r ? r.toFixed(1) : '-').padStart(10),
      (r ? `${(wall / r).toFixed(2)}x` : '').padStart(7),
    );
  }
  console.log(`\nfloor: node -e 0 ${median(floors.plain).toFixed(1)} ms, in the host namespace ${median(floors.host).toFixed(1)} ms`);
} finally {
  spawnSync('ip', ['netns', 'del', ns]);
  spawnSync('ip', ['netns', 'del', hostNs]);
  rmSync(dataDir, { recursive: true, force: true });
}
