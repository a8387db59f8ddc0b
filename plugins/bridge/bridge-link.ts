import { CniError, Errno, ErrorCode, NetlinkError } from '../../lib/errors';
import { formatIP, prefixesOverlap, type IP, type Prefix } from '../../lib/ip';
import { log } from '../../lib/log';
import {
  addAddress,
  bridgeVlanSettings,
  createBridge,
  createVlanFilteringBridge,
  deleteAddress,
  deleteLink,
  listLinks,
  linkByName,
  listAddresses,
  setLinkUp,
  setMac,
  setPromisc,
  type BridgeVlanSettings,
  type LinkInfo,
  type RtNetlinkSocket,
} from '../../lib/netlink';
import { writeSysctl } from '../../lib/sysctl';
import type { BridgeConfig } from './config';

/**
 * The bridge, created if missing (a concurrent ADD may create it first) and checked to be one;
 * `created` when this call made it, so a failed ADD can take it away again. With `vlan` or
 * `vlanTrunk`, a bridge it creates has VLAN filtering, and `vlans` says what the bridge has (an
 * existing bridge is left as it is, as the reference does; without filtering its ports' VLANs have
 * no effect, which is logged).
 */
export async function ensureBridge(sock: RtNetlinkSocket, conf: BridgeConfig): Promise<{ link: LinkInfo; created: boolean; vlans?: BridgeVlanSettings }> {
  let link = await linkByName(sock, conf.bridge);
  let created = false;
  if (!link) {
    try {
      if (conf.vlanFiltering) await createVlanFilteringBridge(sock, conf.bridge, conf.mtu);
      else await createBridge(sock, conf.bridge, conf.mtu);
      created = true;
    } catch (err) {
      if (err instanceof NetlinkError && err.errno === Errno.ENOTSUP && conf.vlanFiltering) {
        throw new CniError(
          ErrorCode.LinkFailure,
          `cannot create bridge ${JSON.stringify(conf.bridge)} with VLAN filtering ("vlan", "vlanTrunk"): this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)`,
        );
      }
      if (!(err instanceof NetlinkError && err.errno === Errno.EEXIST)) throw err;
    }
    link = await linkByName(sock, conf.bridge);
    // a bridge takes the lowest MAC of its ports unless one is set; pinning its own keeps neighbours' ARP caches valid
    if (link?.mac) await setMac(sock, link, link.mac);
    // a bridge must not take router advertisements: it is a gateway, not a host on that network
    writeSysctl(['net', 'ipv6', 'conf', conf.bridge, 'accept_ra'], '0');
    // no DAD on the bridge (it is the only gateway on its network): while its link-local address is
    // tentative the kernel sends no neighbour solicitation for forwarded packets, so the first
    // second of IPv6 traffic from outside to a container (e.g. through a mapped port) was lost
    writeSysctl(['net', 'ipv6', 'conf', conf.bridge, 'accept_dad'], '0');
  }
  if (link?.kind !== 'bridge') {
    throw new CniError(ErrorCode.LinkFailure, `cannot use bridge ${JSON.stringify(conf.bridge)}: an interface of that name exists and is not a bridge`);
  }
  if (conf.promiscMode && !link.promisc) await setPromisc(sock, link, true);
  if (!link.up) await setLinkUp(sock, link, true);
  if (!conf.vlanFiltering) return { link, created };
  const vlans = await bridgeVlanSettings(sock, link.index);
  if (vlans?.filtering === false) {
    log.warn(
      `bridge ${JSON.stringify(conf.bridge)} has no VLAN filtering: the VLANs of "vlan"/"vlanTrunk" are set on its ports but not enforced until "ip link set ${conf.bridge} type bridge vlan_filtering 1"`,
    );
  }
  return { link, created, vlans };
}

/**
 * Undo of a bridge a failed ADD created: deleted unless a port joined it meanwhile (a concurrent
 * ADD found it and attached its veth; that ADD keeps the bridge).
 */
export async function deleteBridgeIfUnused(sock: RtNetlinkSocket, bridge: LinkInfo): Promise<void> {
  if ((await listLinks(sock)).some((l) => l.masterIndex === bridge.index)) return;
  try {
    await deleteLink(sock, bridge.index);
  } catch (err) {
    if (!(err instanceof NetlinkError && err.errno === Errno.ENODEV)) throw err;
  }
}

/**
 * Puts each gateway address on the bridge. An IPv4 bridge address of another value is an error
 * unless forceAddress (then it is replaced), as in the reference plugin; IPv6 addresses may
 * coexist unless they overlap.
 */
export async function ensureGatewayAddresses(sock: RtNetlinkSocket, bridge: LinkInfo, gateways: Array<{ ip: IP; subnet: Prefix }>, forceAddress: boolean): Promise<void> {
  for (const { ip, subnet } of gateways) {
    const existing = await listAddresses(sock, bridge.index);
    if (existing.some((a) => a.ip.family === ip.family && a.ip.value === ip.value)) continue;
    const clashing = existing.filter((a) => a.ip.family === ip.family && (ip.family === 4 || prefixesOverlap({ ip: a.ip, length: a.prefixLength }, subnet)));
    if (clashing.length && !forceAddress) {
      throw new CniError(
        ErrorCode.LinkFailure,
        `${JSON.stringify(bridge.name)} already has an IP address different from ${formatIP(ip)}/${subnet.length} (${clashing.map((a) => `${formatIP(a.ip)}/${a.prefixLength}`).join(', ')}); set forceAddress to replace it`,
      );
    }
    for (const a of clashing) await deleteAddress(sock, a);
    try {
      await addAddress(sock, bridge.index, ip, subnet.length, true);
    } catch (err) {
      // a concurrent ADD on the same bridge put the same address there between our look and our add
      if (!(err instanceof NetlinkError && err.errno === Errno.EEXIST)) throw err;
    }
  }
}
