import { CniError, Errno, ErrorCode, NetlinkError } from '../../lib/errors';
import { addPortVlan, deletePortVlan, setHairpin, setLinkUp, setMaster, setPortIsolated, type LinkInfo, type PortVlan, type RtNetlinkSocket } from '../../lib/netlink';
import { writeSysctl } from '../../lib/sysctl';

/** How a host veth's bridge port is set up (the reference's setupVeth). */
export interface PortSettings {
  hairpin: boolean;
  isolated: boolean;
  /** PVID, untagged; 0: none. */
  vlan: number;
  /** Tagged VLANs. */
  trunk: number[];
  preserveDefaultVlan: boolean;
}

/** The VLAN changes a new port gets, in the reference's order. */
export interface PortVlanPlan {
  /** The bridge's default VLAN, which a new port has, removed unless preserveDefaultVlan. */
  remove: number[];
  add: PortVlan[];
}

/**
 * As the reference's setupVeth: when `vlan` or the trunk set VLANs and preserveDefaultVlan is off,
 * the port's default VLAN goes; then `vlan` as PVID untagged, the trunk tagged, and, when only a
 * trunk is given, VLAN 1 as PVID untagged (the native VLAN, as the reference
 * gives it). The reference lists the port's VLANs to remove them; a port that just joined has
 * exactly the bridge's default PVID, so that one is removed without listing every port of the host.
 */
export function portVlanPlan(port: Pick<PortSettings, 'vlan' | 'trunk' | 'preserveDefaultVlan'>, defaultPvid: number | undefined): PortVlanPlan {
  const setsVlans = port.vlan !== 0 || port.trunk.length > 0;
  const remove = setsVlans && !port.preserveDefaultVlan && defaultPvid ? [defaultPvid] : [];
  const add: PortVlan[] = [];
  if (port.vlan) add.push({ vid: port.vlan, pvid: true, untagged: true });
  for (const vid of port.trunk) add.push({ vid, pvid: false, untagged: false });
  if (!port.vlan && port.trunk.length) add.push({ vid: 1, pvid: true, untagged: true });
  return { remove, add };
}

/**
 * The VLANs a new port ends with after `plan`, as the kernel applies it: a port starts with the
 * default PVID untagged; adding a VLAN it has replaces its flags (PVID and untagged set or cleared);
 * one PVID per port.
 */
export function portVlansAfter(plan: PortVlanPlan, defaultPvid: number | undefined): PortVlan[] {
  const vlans = new Map<number, PortVlan>();
  if (defaultPvid) vlans.set(defaultPvid, { vid: defaultPvid, pvid: true, untagged: true });
  for (const vid of plan.remove) vlans.delete(vid);
  for (const v of plan.add) {
    if (v.pvid) for (const [vid, e] of vlans) vlans.set(vid, { ...e, pvid: false });
    vlans.set(v.vid, { ...v });
  }
  return [...vlans.values()].sort((a, b) => a.vid - b.vid);
}

const noVlanFiltering = (err: unknown) => err instanceof NetlinkError && err.errno === Errno.ENOTSUP;

/**
 * Enslaves the host end to the bridge, sets hairpin, isolation and VLANs as asked, brings it up
 * (last, so no frame crosses the port before its VLANs are set).
 */
export async function attachToBridge(host: RtNetlinkSocket, veth: LinkInfo, bridge: LinkInfo, port: PortSettings, defaultPvid?: number): Promise<void> {
  await setMaster(host, veth, bridge.index);
  writeSysctl(['net', 'ipv6', 'conf', veth.name, 'accept_ra'], '0');
  if (port.hairpin) await setHairpin(host, veth, true);
  if (port.isolated) await setPortIsolated(host, veth, true);
  const plan = portVlanPlan(port, defaultPvid);
  try {
    for (const vid of plan.remove) await deletePortVlan(host, veth, vid);
    for (const vlan of plan.add) await addPortVlan(host, veth, vlan);
  } catch (err) {
    if (!noVlanFiltering(err)) throw err;
    throw new CniError(
      ErrorCode.LinkFailure,
      `cannot set VLANs on bridge port ${JSON.stringify(veth.name)} of ${JSON.stringify(bridge.name)} ("vlan", "vlanTrunk"): this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)`,
    );
  }
  await setLinkUp(host, veth, true);
}
