import { CniError, ErrorCode } from '../../lib/errors';
import { addressingOf, type Addressing } from '../../lib/iface/addressing';
import { checkContainer, containerIPs } from '../../lib/iface/configure-interface';
import { checkForwarding } from '../../lib/iface/forwarding';
import { checkMasquerade } from '../../lib/iface/masquerade';
import { delegate } from '../../lib/invoke/delegate';
import { formatIP, formatPrefix, hostPrefix } from '../../lib/ip';
import { linkByName, listAddresses, listRoutes, openHostSocket, openSocketIn, type LinkInfo, type RtNetlinkSocket } from '../../lib/netlink';
import type { CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { parseConfig } from './config';

const fail = (what: string) => new CniError(ErrorCode.CheckFailed, what);

/**
 * What the reference's CHECK verifies (IPAM's CHECK; the container interface of prevResult is a veth
 * in this netns with its MAC, its addresses and prevResult's routes), plus what ADD put on both
 * ends: the routes through the gateway in the container, the host veth with the gateway addresses
 * and host routes, forwarding, and the masquerade entries and chains.
 */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const prev = cmd.prevResult;
  if (!prev) throw new CniError(ErrorCode.InvalidNetworkConfig, 'CHECK needs "prevResult" (the result of ADD)');
  await delegate(conf.ipamType, 'CHECK', cmd);
  const ctrIf = (prev.interfaces ?? []).find((i) => i.name === cmd.ifname && i.sandbox === cmd.netns);
  if (!ctrIf) throw fail(`prevResult has no interface ${JSON.stringify(cmd.ifname)} in sandbox ${JSON.stringify(cmd.netns)}`);
  const ips = containerIPs(cmd, prev);
  const addressing = addressingOf(ips);
  const host = openHostSocket();
  const ctr = openSocketIn(cmd.netns);
  try {
    await checkContainer(ctr, cmd, ips, prev.routes ?? []);
    const link = (await linkByName(ctr, cmd.ifname))!;
    if (ctrIf.mac && link.mac !== ctrIf.mac) throw fail(`container interface ${JSON.stringify(cmd.ifname)} has MAC ${link.mac}, not ${ctrIf.mac} as in prevResult`);
    await checkPointToPointRoutes(ctr, cmd, link, addressing);
    await checkHostSide(host, prev, addressing);
    checkForwarding(new Set(addressing.map((a) => a.ip.family)));
  } finally {
    host.socket.close();
    ctr.socket.close();
  }
  if (conf.ipMasq) checkMasquerade(cmd, ips, conf.nonMasqueradeCIDRs);
}

async function checkPointToPointRoutes(ctr: RtNetlinkSocket, cmd: CmdArgs, link: LinkInfo, addressing: Addressing[]): Promise<void> {
  for (const a of addressing) {
    const routes = (await listRoutes(ctr, a.ip.family)).filter((r) => r.linkIndex === link.index);
    const gw = hostPrefix(a.gateway);
    if (!routes.some((r) => r.dst.length === gw.length && r.dst.ip.value === gw.ip.value && !r.gw)) {
      throw fail(`route to the gateway ${formatPrefix(gw)} on ${JSON.stringify(cmd.ifname)} is missing from ${JSON.stringify(cmd.netns)}`);
    }
    if (!routes.some((r) => r.dst.length === a.subnet.length && r.dst.ip.value === a.subnet.ip.value && r.gw?.value === a.gateway.value)) {
      throw fail(`route to ${formatPrefix(a.subnet)} via ${formatIP(a.gateway)} is missing from ${JSON.stringify(cmd.netns)}`);
    }
  }
}

/** The host end named in prevResult is a veth with each gateway address and a host route to each container address. */
async function checkHostSide(host: RtNetlinkSocket, prev: Result, addressing: Addressing[]): Promise<void> {
  const hostIf = (prev.interfaces ?? []).find((i) => !i.sandbox);
  if (!hostIf) return;
  const link = await linkByName(host, hostIf.name);
  if (link?.kind !== 'veth') throw fail(`host veth ${JSON.stringify(hostIf.name)} is missing`);
  const present = await listAddresses(host, link.index);
  for (const a of addressing) {
    const gw = hostPrefix(a.gateway);
    if (!present.some((p) => p.ip.family === gw.ip.family && p.ip.value === gw.ip.value && p.prefixLength === gw.length)) {
      throw fail(`gateway address ${formatPrefix(gw)} is missing from host veth ${JSON.stringify(hostIf.name)}`);
    }
    const routes = await listRoutes(host, a.ip.family);
    const dst = hostPrefix(a.ip);
    if (!routes.some((r) => r.linkIndex === link.index && r.dst.length === dst.length && r.dst.ip.value === dst.ip.value)) {
      throw fail(`host route to ${formatPrefix(dst)} via host veth ${JSON.stringify(hostIf.name)} is missing`);
    }
  }
}
