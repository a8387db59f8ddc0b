import { createVeth } from '../../lib/iface/veth';
import { deleteLink, linkByName, listLinks, listPortVlans, setLinkUp, type LinkInfo, type RtNetlinkSocket } from '../../lib/netlink';
import { writeSysctl } from '../../lib/sysctl';
import type { BridgeConfig } from './config';
import { attachToBridge } from './veth';

/** The interface that carries a VLAN's gateway addresses: `<bridge>.<vlan>`, as the reference names it. */
export const vlanGatewayName = (bridge: string, vlan: number): string => `${bridge}.${vlan}`;

/** The namespace this process runs in (the host's), for a veth pair whose both ends stay here. */
const OWN_NETNS = '/proc/thread-self/ns/net';

export interface VlanGateway {
  link: LinkInfo;
  /** This call made it; `port` is its bridge end. */
  created?: { port: LinkInfo };
}

/**
 * The reference's ensureVlanInterface: with `isGateway` and a `vlan`, the gateway addresses go on
 * `<bridge>.<vlan>` instead of the bridge (the bridge itself is not in the VLAN). It is one end of a
 * veth pair in the host namespace whose other end (`veth` + 8 hex digits) is a port of the bridge
 * with the VLAN as PVID, untagged, set up like a container's port (default VLAN removed unless
 * preserveDefaultVlan), never isolated. An existing interface of that name is used as it is.
 * Ours also sets accept_ra=0 on it, as on the bridge: containers must not configure the host.
 */
export async function ensureVlanGateway(host: RtNetlinkSocket, bridge: LinkInfo, conf: BridgeConfig, defaultPvid: number | undefined): Promise<VlanGateway> {
  const name = vlanGatewayName(conf.bridge, conf.vlan);
  const existing = await linkByName(host, name);
  if (existing) return { link: existing };
  const pair = await createVeth(host, host, { netnsPath: OWN_NETNS, ifname: name, mtu: bridge.mtu });
  try {
    await attachToBridge(host, pair.host, bridge, { hairpin: false, isolated: false, vlan: conf.vlan, trunk: [], preserveDefaultVlan: conf.preserveDefaultVlan }, defaultPvid);
    writeSysctl(['net', 'ipv6', 'conf', name, 'accept_ra'], '0');
    await setLinkUp(host, pair.container, true);
  } catch (err) {
    await deleteLink(host, pair.host.index);
    throw err;
  }
  return { link: (await linkByName(host, name)) ?? pair.container, created: { port: pair.host } };
}

/**
 * Undo of a VLAN gateway a failed ADD created: deleted unless another port of the bridge (not its
 * own, not the failed ADD's) carries the VLAN, i.e. a concurrent ADD of the same VLAN uses it.
 */
export async function deleteVlanGatewayIfUnused(host: RtNetlinkSocket, bridge: LinkInfo, vlan: number, gateway: VlanGateway, exclude: number[]): Promise<void> {
  if (!gateway.created) return;
  const skip = new Set([gateway.created.port.index, ...exclude]);
  const ports = (await listLinks(host)).filter((l) => l.masterIndex === bridge.index && !skip.has(l.index));
  if (ports.length) {
    const vlans = await listPortVlans(host);
    if (ports.some((p) => vlans.get(p.index)?.some((v) => v.vid === vlan))) return;
  }
  await deleteLink(host, gateway.link.index);
}
