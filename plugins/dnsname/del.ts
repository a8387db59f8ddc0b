import { formatIP, parsePrefix } from '../../lib/ip';
import type { DelArgs } from '../../lib/skel';
import { attachmentKey } from '../../lib/state/attachment-state';
import { findDnsmasq } from './dnsmasq';
import { existingNetworkDns, type NetworkDns } from './files';
import { afterRemoval } from './server';

/**
 * Removes the container's names; the network's last container stops its dnsmasq. Reads no field
 * of the config and needs neither prevResult nor the netns (the record says what was added). Idempotent.
 */
export async function del(cmd: DelArgs): Promise<void> {
  const dns = existingNetworkDns(cmd.env, cmd.config.name);
  if (!dns) return;
  const key = attachmentKey(cmd);
  dns.records.withLock(() => {
    const record = dns.records.readRecord(key);
    if (!record.data && !record.damaged) return;
    // a damaged record: the addresses in prevResult (libcni's cached result) say which lines were this container's
    dns.forget(key, record.data?.lines ?? linesOfAddresses(dns, cmd));
    afterRemoval(findDnsmasq(cmd.env), dns);
  });
}

function linesOfAddresses(dns: NetworkDns, cmd: DelArgs): string[] {
  const ips = new Set(
    (cmd.prevResult?.ips ?? [])
      .map((ip) => parsePrefix(ip.address))
      .filter((p) => p !== undefined)
      .map((p) => formatIP(p.ip)),
  );
  return [...dns.presentLines()].filter((line) => ips.has(line.split('\t')[0]));
}
