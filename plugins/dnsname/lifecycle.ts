import { CniError, ErrorCode } from '../../lib/errors';
import { assertWritableDirectory } from '../../lib/fs';
import type { CmdArgs } from '../../lib/skel';
import { removeInvalidAttachments } from '../../lib/state/collect-garbage';
import { findDnsmasq, requireDnsmasq, runningPid } from './dnsmasq';
import { dnsnameBase, existingNetworkDns } from './files';
import { afterRemoval } from './server';

/** Ready when dnsmasq is installed, the base directory is writable, and a network with containers has its dnsmasq running. */
export async function status(cmd: CmdArgs): Promise<void> {
  requireDnsmasq(cmd.env);
  assertWritableDirectory(dnsnameBase(cmd.env), 'dnsname directory');
  const dns = existingNetworkDns(cmd.env, cmd.config.name);
  if (!dns) return;
  const serving = dns.records.withLock(() => !dns.records.hasRecords(dns.network) || runningPid(dns) !== undefined);
  if (!serving) {
    throw new CniError(ErrorCode.PluginNotAvailable, `the dnsmasq of network ${JSON.stringify(dns.network)} is not running (the next ADD starts it again)`);
  }
}

/** Removes the names of attachments not in cni.dev/valid-attachments; a dnsmasq left serving nobody is stopped. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const dns = existingNetworkDns(cmd.env, cmd.config.name);
  if (!dns) return;
  const executable = findDnsmasq(cmd.env);
  await removeInvalidAttachments(
    [
      {
        attachments: (network) => dns.records.withLock(() => dns.records.list(network).map((r) => r.key)),
        collect: (key) => dns.records.withLock(() => dns.forget(key, dns.records.read(key)?.lines ?? [])),
      },
    ],
    dns.network,
    cmd.validAttachments,
    'name',
  );
  dns.records.withLock(() => afterRemoval(executable, dns));
}
