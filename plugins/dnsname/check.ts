import { CniError, ErrorCode } from '../../lib/errors';
import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import { attachmentKey } from '../../lib/state/attachment-state';
import { parseConfig } from './config';
import { runningPid } from './dnsmasq';
import { dnsnameBase, hostsLines, NetworkDns } from './files';
import { containerIPs } from './result';

const fail = (what: string) => new CniError(ErrorCode.CheckFailed, what);

/** The network's dnsmasq runs, and the container's names for its addresses are in its hosts file. */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const prev = requirePrevResult(cmd, 'dnsname');
  const dns = new NetworkDns(dnsnameBase(cmd.env), conf.networkName);
  const expected = hostsLines(containerIPs(prev, cmd.ifname), conf.names, conf.domain);
  dns.records.withLock(() => {
    const recorded = dns.records.read(attachmentKey(cmd))?.lines;
    if (!recorded) throw fail(`no names registered for container ${JSON.stringify(cmd.containerId)} (${cmd.ifname}) on network ${JSON.stringify(conf.networkName)}`);
    const present = dns.presentLines();
    const missing = expected.filter((line) => !present.has(line));
    if (missing.length) throw fail(`names missing from ${dns.hosts}: ${missing.map((l) => JSON.stringify(l.replaceAll('\t', ' '))).join(', ')}`);
    if (runningPid(dns) === undefined) throw fail(`the dnsmasq of network ${JSON.stringify(conf.networkName)} is not running (pidfile ${dns.pidfile})`);
  });
}
