import { CniError, ErrorCode } from '../../lib/errors';
import { checkContainer, containerIPs } from '../../lib/iface/configure-interface';
import { checkMasquerade } from '../../lib/iface/masquerade';
import { delegate } from '../../lib/invoke/delegate';
import { parseIP } from '../../lib/ip';
import {
  bridgePortState,
  bridgeVlanSettings,
  linkByName,
  listAddresses,
  listPortVlans,
  openHostSocket,
  openSocketIn,
  type LinkInfo,
  type PortVlan,
  type RtNetlinkSocket,
} from '../../lib/netlink';
import type { CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { attachmentKey, spoofCheck } from './records';
import { parseConfig, type BridgeConfig } from './config';
import { portVlanPlan, portVlansAfter } from './veth';
import { vlanGatewayName } from './vlan-gateway';

const fail = (what: string) => new CniError(ErrorCode.CheckFailed, what);

/**
 * Verifies what ADD set up against prevResult: bridge, enslaved host veth with its isolation and
 * VLANs, the VLAN gateway, container addresses and routes, IPAM, masquerade.
 */
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
  if (conf.ipMasq) checkMasquerade(cmd, ips, conf.nonMasqueradeCIDRs);
}

async function checkHostSide(host: RtNetlinkSocket, conf: BridgeConfig, prev: Result): Promise<void> {
  const bridge = await linkByName(host, conf.bridge);
  if (bridge?.kind !== 'bridge') throw fail(`bridge ${JSON.stringify(conf.bridge)} is missing or not a bridge`);
  const gatewayName = conf.vlan ? vlanGatewayName(conf.bridge, conf.vlan) : undefined;
  const hostVeth = (prev.interfaces ?? []).find((i) => !i.sandbox && i.name !== conf.bridge && i.name !== gatewayName);
  if (hostVeth) {
    const link = await linkByName(host, hostVeth.name);
    if (!link) throw fail(`host veth ${JSON.stringify(hostVeth.name)} is missing`);
    if (link.masterIndex !== bridge.index) throw fail(`host veth ${JSON.stringify(hostVeth.name)} is not attached to bridge ${JSON.stringify(conf.bridge)}`);
    await checkPort(host, conf, bridge, link);
  }
  if (gatewayName && conf.isGateway && (prev.interfaces ?? []).some((i) => i.name === gatewayName && !i.sandbox)) await checkVlanGateway(host, gatewayName, prev);
}

const describeVlans = (vlans: PortVlan[]) => vlans.map((v) => `${v.vid}${v.pvid ? ' pvid' : ''}${v.untagged ? ' untagged' : ''}`).join(', ') || 'none';

/** The port's isolation as portIsolation says, and with vlan/vlanTrunk, exactly the VLANs ADD gave it. */
async function checkPort(host: RtNetlinkSocket, conf: BridgeConfig, bridge: LinkInfo, port: LinkInfo): Promise<void> {
  const state = await bridgePortState(host, port.index);
  if (state && state.isolated !== conf.portIsolation) {
    throw fail(`bridge port ${JSON.stringify(port.name)} is ${state.isolated ? '' : 'not '}isolated, and portIsolation is ${conf.portIsolation}`);
  }
  if (!conf.vlanFiltering) return;
  const { defaultPvid } = (await bridgeVlanSettings(host, bridge.index)) ?? {};
  const want = portVlansAfter(portVlanPlan({ vlan: conf.vlan, trunk: conf.vlanTrunk, preserveDefaultVlan: conf.preserveDefaultVlan }, defaultPvid), defaultPvid);
  const have = [...((await listPortVlans(host)).get(port.index) ?? [])].sort((a, b) => a.vid - b.vid);
  if (describeVlans(have) !== describeVlans(want)) {
    throw fail(`bridge port ${JSON.stringify(port.name)} has VLANs ${describeVlans(have)}, expected ${describeVlans(want)}`);
  }
}

/** The VLAN gateway interface of prevResult exists and carries the gateway address of each of prevResult's ips. */
async function checkVlanGateway(host: RtNetlinkSocket, name: string, prev: Result): Promise<void> {
  const link = await linkByName(host, name);
  if (!link) throw fail(`VLAN gateway interface ${JSON.stringify(name)} is missing`);
  const present = await listAddresses(host, link.index);
  for (const ip of prev.ips ?? []) {
    const gw = ip.gateway ? parseIP(ip.gateway) : undefined;
    if (!gw) continue;
    if (!present.some((a) => a.ip.family === gw.family && a.ip.value === gw.value)) {
      throw fail(`gateway ${ip.gateway} is missing from VLAN gateway interface ${JSON.stringify(name)}`);
    }
  }
}
