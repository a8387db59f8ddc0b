import { CniError, ErrorCode } from '../../lib/errors';
import { formatIP, isGlobalUnicast } from '../../lib/ip';
import { linkByName, listAddresses, openHostSocket } from '../../lib/netlink';
import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import { attachmentKey } from '../../lib/state/attachment-state';
import type { Result } from '../../lib/types';
import { parseConfig } from './config';
import { requireDnsmasq, stopDnsmasq } from './dnsmasq';
import { dnsnameBase, hostsLines, NetworkDns } from './files';
import { containerIPs } from './result';
import { serveNetwork } from './server';

/**
 * Registers the container's names for its addresses in its network's dnsmasq (started by the
 * first ADD, told of later ones with SIGHUP) and returns prevResult with the gateway as the
 * container's nameserver and the domain as its search domain, as containers/dnsname does.
 */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  const prev = requirePrevResult(cmd, 'dnsname');
  const executable = requireDnsmasq(cmd.env);
  const ips = containerIPs(prev, cmd.ifname);
  const listen = await gatewayAddresses(prev);
  const dns = new NetworkDns(dnsnameBase(cmd.env), conf.networkName);
  const key = attachmentKey(cmd);
  dns.records.withLock(() => {
    const lines = hostsLines(ips, conf.names, conf.domain);
    // a repeated ADD replaces what the attachment registered before; recorded before written, so DEL can undo a crash
    const before = dns.records.read(key)?.lines ?? [];
    dns.records.write(key, { lines });
    dns.removeHosts(before);
    dns.appendHosts(lines);
    try {
      serveNetwork(executable, dns, conf.domain, listen);
    } catch (err) {
      // a failed ADD leaves what was there before it: the earlier registration of a repeated ADD, no server for nobody
      dns.removeHosts(lines);
      dns.appendHosts(before);
      if (before.length) dns.records.write(key, { lines: before });
      else dns.records.remove(key);
      if (!dns.records.hasRecords(conf.networkName)) {
        stopDnsmasq(dns);
        dns.removeServerFiles();
      }
      throw err;
    }
  });
  const nameservers = [...listen, ...(prev.dns?.nameservers ?? []).filter((ns) => !listen.includes(ns))];
  return { ...prev, dns: { ...prev.dns, nameservers, search: [...(prev.dns?.search ?? []).filter((s) => s !== conf.domain), conf.domain] } };
}

/** The global addresses of the bridge (prevResult's first interface), where the network's dnsmasq listens. */
async function gatewayAddresses(prev: Result): Promise<string[]> {
  const bridge = prev.interfaces?.[0];
  if (!bridge?.name || bridge.sandbox) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, 'dnsname needs the bridge as the first interface of prevResult: chain "dnsname" after "bridge"');
  }
  const sock = openHostSocket();
  try {
    const link = await linkByName(sock, bridge.name);
    const addresses = link ? (await listAddresses(sock, link.index)).filter((a) => isGlobalUnicast(a.ip)).map((a) => formatIP(a.ip)) : [];
    if (!addresses.length) {
      throw new CniError(ErrorCode.InvalidNetworkConfig, `bridge ${JSON.stringify(bridge.name)} has no address for dnsmasq to listen on: the bridge needs "isGateway": true`);
    }
    return addresses;
  } finally {
    sock.socket.close();
  }
}
