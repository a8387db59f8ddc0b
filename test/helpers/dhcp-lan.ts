import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { BIN_DIR, execPlugin, type PluginOutcome } from './exec-plugin';
import { netnsPool, type TestNetns } from './netns';
import { until } from './poll';
import { requireRoot } from './root';

const ip = (...args: string[]) => execFileSync('ip', args);

/** A LAN a DHCP server serves: the server's interface and its address (also the router), the pool `<prefix>.<first>` to `<prefix>.<last>` in a /24. */
export interface DhcpNet {
  iface: string;
  prefix: string;
  server: string;
  /** The DNS server announced (option 6), if any. */
  dns?: string;
  first: number;
  last: number;
}

/** The LAN's addresses: the DHCP server (and router) is .1 on a bridge in the LAN namespace. */
export const LAN = { iface: 'br0', prefix: '10.91.0', server: '10.91.0.1', dns: '10.91.0.53', first: 50, last: 99 } satisfies DhcpNet;

export interface DnsmasqLease {
  expires: number;
  mac: string;
  ip: string;
  clientId: string;
}

/** A process a test started (dnsmasq, a daemon), in its own process group so that it goes with everything it started. */
export interface Started {
  child: ChildProcess;
  output(): string;
  /** Signals the whole group and waits for the leader to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export type Start = (command: string, args: string[]) => Started;

/**
 * Processes started each in its own process group, with their output kept; `stopAll` kills every
 * group (SIGKILL) and waits for them to go.
 */
export function processGroups(): { start: Start; stopAll(): Promise<void> } {
  const processes: Started[] = [];
  const start: Start = (command, args) => {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (c) => (output += c));
    child.stderr!.on('data', (c) => (output += c));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const started: Started = {
      child,
      output: () => output,
      stop: async (signal = 'SIGKILL') => {
        if (child.exitCode === null && child.signalCode === null) {
          try {
            process.kill(-child.pid!, signal);
          } catch {
            // already gone
          }
          await exited;
        }
        // the leader (a launcher shell) may go first: wait for the rest of its group
        await until(`process group ${child.pid} to exit`, () => !groupAlive(child.pid!), 10_000);
      },
    };
    processes.push(started);
    return started;
  };
  return { start, stopAll: async () => void (await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')))) };
}

/** processGroups() for a test file: whatever a test started is killed after it, pass or fail. */
export function useProcessGroups(): Start {
  const groups = processGroups();
  afterEach(groups.stopAll);
  return groups.start;
}

/**
 * dnsmasq as the DHCP server of `net` in `ns` (2-minute leases, no ping check, no DNS, its lease file
 * and log in `dir`), with extra options; resolves once it serves.
 */
export async function startDnsmasq(start: Start, ns: TestNetns, dir: string, net: DhcpNet, extra: string[] = []): Promise<Started> {
  const server = start('ip', [
    'netns',
    'exec',
    ns.name,
    'dnsmasq',
    '--conf-file=/dev/null',
    '--keep-in-foreground',
    '--user=root',
    '--port=0',
    `--interface=${net.iface}`,
    '--bind-interfaces',
    '--no-ping',
    `--dhcp-range=${net.prefix}.${net.first},${net.prefix}.${net.last},255.255.255.0,2m`,
    `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`,
    `--dhcp-option=option:router,${net.server}`,
    ...(net.dns ? [`--dhcp-option=option:dns-server,${net.dns}`] : []),
    '--log-dhcp',
    `--log-facility=${join(dir, 'dnsmasq.log')}`,
    ...extra,
  ]);
  await until('dnsmasq to listen', () => dnsmasqLog(dir).includes('DHCP, IP range'), 5000, server);
  return server;
}

/** The leases in the lease file of the dnsmasq started with `dir`. */
export const dnsmasqLeases = (dir: string): DnsmasqLease[] =>
  (existsSync(join(dir, 'dnsmasq.leases')) ? readFileSync(join(dir, 'dnsmasq.leases'), 'utf8') : '')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [expires, mac, address, , clientId] = line.split(' ');
      return { expires: Number(expires), mac, ip: address, clientId };
    });

/** The log so far of the dnsmasq started with `dir`. */
export const dnsmasqLog = (dir: string): string => (existsSync(join(dir, 'dnsmasq.log')) ? readFileSync(join(dir, 'dnsmasq.log'), 'utf8') : '');

/**
 * Our `dhcp daemon` on `socket` with its leases in `leaseDir` (inside `netns` if given, as a node's
 * daemon runs); resolves once it listens. Not on the socket file: one left by a daemon that was
 * killed is there before the new one listens.
 */
export async function startDhcpDaemon(start: Start, socket: string, leaseDir: string, extra: string[] = [], netns?: TestNetns): Promise<Started> {
  const args = ['daemon', '-socketpath', socket, '-leasedir', leaseDir, ...extra];
  const d = netns ? start('ip', ['netns', 'exec', netns.name, join(BIN_DIR, 'dhcp'), ...args]) : start(join(BIN_DIR, 'dhcp'), args);
  await until('the daemon to listen', () => d.output().includes('"msg":"listening"'), 10_000, d);
  return d;
}

export interface DhcpLan {
  dir: string;
  lan: TestNetns;
  /** A container namespace with an interface `eth0` whose other end is a port of the LAN bridge (down, no address). */
  container(label: string): TestNetns;
  /** A bare namespace (lo up), removed after the test. */
  namespace(label: string): TestNetns;
  /** dnsmasq serving the LAN (2-minute leases, no ping check, its leases and log in `dir`), with extra options. */
  dnsmasq(extra?: string[]): Promise<Started>;
  /** Starts an executable (the daemon) in the test's process tree, killed after the test. */
  start: Start;
  leases(): DnsmasqLease[];
  /** dnsmasq's log so far. */
  dnsmasqLog(): string;
}

/**
 * Per test: a temporary directory, a "LAN" namespace with a bridge `br0` holding the DHCP server's
 * address, and container namespaces made on demand. Afterwards, pass or fail, every process started
 * (dnsmasq, daemons, with their children), the namespaces and the directory are removed.
 */
export function useDhcpLan(tmpPrefix: string, onEach: (lan: DhcpLan) => void): void {
  const pool = netnsPool();
  const { start, stopAll } = processGroups();
  let dir: string | undefined;
  beforeAll(requireRoot);
  beforeEach(() => {
    const d = mkdtempSync(join(tmpdir(), tmpPrefix));
    dir = d;
    const lan = pool.make('dlan');
    ip('-n', lan.name, 'link', 'set', 'lo', 'up');
    ip('-n', lan.name, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', lan.name, 'addr', 'add', `${LAN.server}/24`, 'dev', 'br0');
    ip('-n', lan.name, 'link', 'set', 'br0', 'up');
    let ports = 0;
    onEach({
      dir: d,
      lan,
      container(label) {
        const ctr = pool.make(label);
        const port = `vc${++ports}`;
        ip('-n', lan.name, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ctr.name);
        ip('-n', lan.name, 'link', 'set', port, 'master', 'br0', 'up');
        ip('-n', ctr.name, 'link', 'set', 'lo', 'up');
        return ctr;
      },
      namespace(label) {
        const ns = pool.make(label);
        ip('-n', ns.name, 'link', 'set', 'lo', 'up');
        return ns;
      },
      dnsmasq: (extra = []) => startDnsmasq(start, lan, d, LAN, extra),
      start,
      leases: () => dnsmasqLeases(d),
      dnsmasqLog: () => dnsmasqLog(d),
    });
  });
  afterEach(async () => {
    await stopAll();
    pool.destroyAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** dnsmasq's form of a client id in its lease file: the bytes of option 61 in hex, colon-separated. */
export const dnsmasqClientId = (clientId: string): string => [...Buffer.concat([Buffer.from([0]), Buffer.from(clientId)])].map((b) => b.toString(16).padStart(2, '0')).join(':');

/** Runs a dhcp plugin (ours or the reference's) for `ctr`'s eth0 as a runtime does. */
export function dhcpPlugin(
  executable: string,
  command: string,
  containerId: string,
  ctr: TestNetns | undefined,
  conf: object,
  extra: { killAfterMs?: number; cniArgs?: string } = {},
): Promise<PluginOutcome> {
  return execPlugin(executable, { command, containerId, netns: ctr?.path, ifname: 'eth0', stdin: conf, ...extra });
}
