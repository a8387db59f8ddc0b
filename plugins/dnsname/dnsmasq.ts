import { childProcess } from '../../lib/start/builtins';
import { closeSync, openSync } from 'node:fs';
import { CniError, ErrorCode } from '../../lib/errors';
import { findExecutable, readFileIfExists } from '../../lib/fs';
import { sleepSync } from '../../lib/lock';
import type { NetworkDns } from './files';

// Debian puts dnsmasq in /usr/sbin, which a runtime's PATH may lack
const FALLBACK_DIRS = ['/usr/sbin', '/sbin'];

/** The dnsmasq executable on PATH (or in /usr/sbin), or undefined. */
export const findDnsmasq = (env: Readonly<Record<string, string | undefined>>): string | undefined =>
  findExecutable('dnsmasq', [...(env.PATH ?? '').split(':').filter(Boolean), ...FALLBACK_DIRS]);

export function requireDnsmasq(env: Readonly<Record<string, string | undefined>>): string {
  const path = findDnsmasq(env);
  if (!path) throw new CniError(ErrorCode.PluginNotAvailable, 'dnsmasq is not installed (Debian: apt install dnsmasq-base): the dnsname plugin runs one per network');
  return path;
}

/**
 * The pid of this network's dnsmasq when it runs: the pidfile's pid, alive, and really a dnsmasq
 * with this network's config (a pid is reused after a crash; a killed process waiting to be
 * reaped has no command line).
 */
export function runningPid(dns: NetworkDns): number | undefined {
  const pid = Number((readFileIfExists(dns.pidfile) ?? '').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const cmdline = readFileIfExists(`/proc/${pid}/cmdline`) ?? '';
  return cmdline.split('\0').includes(`--conf-file=${dns.conf}`) ? pid : undefined;
}

/**
 * Starts dnsmasq for the network and waits until it serves (it daemonises once its sockets are
 * bound, and writes its pidfile). Its startup errors go to a file, not to a pipe the daemon
 * would keep open.
 */
export function startDnsmasq(executable: string, dns: NetworkDns): number {
  const errors = openSync(dns.errors, 'w', 0o600);
  let status: number | null;
  try {
    status = childProcess().spawnSync(executable, ['-u', 'root', `--conf-file=${dns.conf}`], { stdio: ['ignore', 'ignore', errors] }).status;
  } finally {
    closeSync(errors);
  }
  const pid = runningPid(dns);
  if (status !== 0 || pid === undefined) {
    const why = (readFileIfExists(dns.errors) ?? '').trim() || `exit status ${status}`;
    throw new CniError(ErrorCode.DnsServerFailure, `cannot start dnsmasq for network ${JSON.stringify(dns.network)}: ${why}`);
  }
  return pid;
}

/** Tells dnsmasq to read its hosts file again (its pid and sockets stay). */
export const reloadDnsmasq = (pid: number): void => void process.kill(pid, 'SIGHUP');

/**
 * Stops this network's dnsmasq, if it runs: SIGTERM, then SIGKILL after 1 s; returns once the
 * process has exited (it removes its pidfile before it closes its sockets, so a new one started
 * too early finds port 53 still taken).
 */
export function stopDnsmasq(dns: NetworkDns): void {
  const pid = runningPid(dns);
  if (pid === undefined) return;
  const alive = () => (readFileIfExists(`/proc/${pid}/cmdline`) ?? '') !== '';
  signal(pid, 'SIGTERM');
  for (const [deadline, next] of [
    [Date.now() + 1000, 'SIGKILL'],
    [Date.now() + 2000, undefined],
  ] as const) {
    while (alive() && Date.now() < deadline) sleepSync(10);
    if (next && alive()) signal(pid, next);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
