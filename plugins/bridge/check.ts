import { CniError, ErrorCode } from '../../lib/errors';
import { formatIP, networkAddress, parsePrefix } from '../../lib/ip';
import { delegate } from '../../lib/invoke/delegate';
import { linkByName, listAddresses, listRoutes, openHostSocket, openSocketIn, type RtNetlinkSocket } from '../../lib/netlink';
import type { CmdArgs } from '../../lib/skel';
import type { IPConfig, Result, Route } from '../../lib/types';
import { attachmentKey, masqEntries, masquerade, spoofCheck } from './attachment';
import { parseConfig, type BridgeConfig } from './config';
import { addressingOf } from './container';

const fail = (what: string) => new CniError(ErrorCode.CheckFailed, what);

/** Verifies what ADD set up against prevResult: bridge, enslaved host veth, container addresses and routes, IPAM, masquerade. */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const prev = cmd.prevResult;
  if (!prev) throw new CniError(ErrorCode.InvalidNetworkConfig, 'CHECK needs "prevResult" (the result of ADD)');
  if (conf.ipamType) await delegate(conf.ipamType, 'CHECK', cmd);
  const ips = containerIPs(cmd, prev);
  const host = openHostSocket();
  const ctr = openSocketIn(cmd.netns);
  try {
    await checkHostSide(host, conf, prev);
    await checkContainer(ctr, cmd, ips, prev.routes ?? []);
  } finally {
    host.socket.close();
    ctr.socket.close();
  }
  if (conf.macSpoofCheck) {
    const spoof = spoofCheck(cmd);
    const entries = spoof.recorded(attachmentKey(cmd));
    if (!entries || spoof.missing(entries).length) throw fail('MAC spoof check entries are missing from nftables table bridge cni_ts');
    const broken = spoof.brokenStructure(entries);
    if (broken.length) throw fail(`the MAC spoof check cannot work: ${broken.join('; ')}`);
  }
  if (conf.ipMasq) {
    const masq = masquerade(cmd);
    const expected = masqEntries(addressingOf(ips));
    const missing = masq.missing(expected);
    if (missing.length) throw fail(`masquerade entries missing from nftables table inet cni_ts: ${missing.map((m) => m.ip).join(', ')}`);
    const broken = masq.brokenStructure(expected);
    if (broken.length) throw fail(`masquerading cannot work: ${broken.join('; ')}`);
  }
}

/** prevResult's addresses of the container interface (entries without an interface index count too). */
function containerIPs(cmd: CmdArgs, prev: Result): IPConfig[] {
  const index = (prev.interfaces ?? []).findIndex((i) => i.name === cmd.ifname && i.sandbox === cmd.netns);
  return (prev.ips ?? []).filter((ip) => ip.interface === undefined || ip.interface === index);
}

async function checkHostSide(host: RtNetlinkSocket, conf: BridgeConfig, prev: Result): Promise<void> {
  const bridge = await linkByName(host, conf.bridge);
  if (bridge?.kind !== 'bridge') throw fail(`bridge ${JSON.stringify(conf.bridge)} is missing or not a bridge`);
  const hostVeth = (prev.interfaces ?? []).find((i) => !i.sandbox && i.name !== conf.bridge);
  if (!hostVeth) return;
  const link = await linkByName(host, hostVeth.name);
  if (!link) throw fail(`host veth ${JSON.stringify(hostVeth.name)} is missing`);
  if (link.masterIndex !== bridge.index) throw fail(`host veth ${JSON.stringify(hostVeth.name)} is not attached to bridge ${JSON.stringify(conf.bridge)}`);
}

async function checkContainer(ctr: RtNetlinkSocket, cmd: CmdArgs, ips: IPConfig[], expectedRoutes: Route[]): Promise<void> {
  const link = await linkByName(ctr, cmd.ifname);
  if (!link) throw fail(`container interface ${JSON.stringify(cmd.ifname)} is missing from ${JSON.stringify(cmd.netns)}`);
  if (link.kind !== 'veth') throw fail(`container interface ${JSON.stringify(cmd.ifname)} is a ${link.kind ?? 'device'}, not a veth`);
  const present = await listAddresses(ctr, link.index);
  for (const ip of ips) {
    const want = parsePrefix(ip.address)!;
    if (!present.some((a) => a.ip.family === want.ip.family && a.ip.value === want.ip.value && a.prefixLength === want.length)) {
      throw fail(`address ${ip.address} is missing from ${JSON.stringify(cmd.ifname)}`);
    }
  }
  const addressing = addressingOf(ips);
  const routesByFamily = { 4: await listRoutes(ctr, 4, true), 6: await listRoutes(ctr, 6, true) };
  for (const route of expectedRoutes) {
    const dst = parsePrefix(route.dst)!;
    const fallback = addressing.find((a) => a.ip.family === dst.ip.family)?.gateway;
    const gw = route.gw ?? (fallback && formatIP(fallback));
    const found = routesByFamily[dst.ip.family].some(
      (r) => r.dst.length === dst.length && r.dst.ip.value === networkAddress(dst).value && (!gw || (r.gw && formatIP(r.gw) === gw)),
    );
    if (!found) throw fail(`route to ${route.dst}${gw ? ` via ${gw}` : ''} is missing from ${JSON.stringify(cmd.netns)}`);
  }
}
