import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatIP, parsePrefix } from '../../lib/ip';
import type { CmdArgs } from '../../lib/skel';
import { attachmentKey } from '../../lib/state/attachment-state';
import { findDnsmasq } from './dnsmasq';
import { dnsnameBase, NetworkDns } from './files';
import { afterRemoval } from './server';

/**
 * Removes the container's names; the network's last container stops its dnsmasq. Reads no field
 * of the config and needs neither prevResult nor the netns (the record says what was added), so
 * it never refuses what ADD refused. Idempotent.
 */
export async function del(cmd: CmdArgs): Promise<void> {
  const base = dnsnameBase(cmd.env);
  if (!existsSync(join(base, cmd.config.name))) return;
  const dns = new NetworkDns(base, cmd.config.name);
  const key = attachmentKey(cmd);
  dns.records.withLock(() => {
    const record = dns.records.readRecord(key);
    if (!record.data && !record.damaged) return;
    // a damaged record: the addresses in prevResult (libcni's cached result) say which lines were this container's
    const lines = record.data?.lines ?? linesOfAddresses(dns, cmd);
    dns.removeHosts(lines);
    dns.records.remove(key);
    afterRemoval(findDnsmasq(cmd.env), dns);
  });
}

function linesOfAddresses(dns: NetworkDns, cmd: CmdArgs): string[] {
  const ips = new Set(
    (cmd.prevResult?.ips ?? [])
      .map((ip) => parsePrefix(ip.address))
      .filter((p) => p !== undefined)
      .map((p) => formatIP(p.ip)),
  );
  return [...dns.presentLines()].filter((line) => ips.has(line.split('\t')[0]));
}
