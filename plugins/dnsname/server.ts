import { log } from '../../lib/log';
import { reloadDnsmasq, runningPid, startDnsmasq, stopDnsmasq } from './dnsmasq';
import type { NetworkDns } from './files';

/**
 * Makes the network's dnsmasq serve the current hosts file: started when it is not running (first
 * ADD, or killed from outside), restarted when its listen addresses changed, otherwise told to
 * reload with SIGHUP (never restarted per container). Run under the network's lock.
 */
export function serveNetwork(executable: string, dns: NetworkDns, domain: string, listen: string[]): void {
  const changed = dns.writeConf(domain, listen);
  const pid = runningPid(dns);
  if (pid !== undefined && !changed) {
    reloadDnsmasq(pid);
    return;
  }
  if (pid !== undefined) stopDnsmasq(dns);
  startDnsmasq(executable, dns);
}

/**
 * After a container left (DEL, GC): the last one stops the server and removes its files, others
 * get a reload, or a new server when the old one died. Never throws: the names are gone from the
 * hosts file either way, and a DEL must not fail (libcni would skip the plugins after it).
 */
export function afterRemoval(executable: string | undefined, dns: NetworkDns): void {
  try {
    if (!dns.records.hasRecords(dns.network)) {
      stopDnsmasq(dns);
      dns.removeServerFiles();
      return;
    }
    const pid = runningPid(dns);
    if (pid !== undefined) reloadDnsmasq(pid);
    else if (executable) startDnsmasq(executable, dns);
  } catch (err) {
    log.warn('dnsmasq could not be told of the change; the next ADD tries again', { network: dns.network, error: (err as Error).message });
  }
}
