import { Errno, NetlinkError } from '../errors';
import { attr, parseAttributes, string, u16, u32, u8 } from './attributes';
import { linkInfo } from './encode';
import type { LinkInfo } from './links';
import { FlagsGet, FlagsNew, ifla, type RtNetlinkSocket } from './package';
import { call } from './socket';

/**
 * Bridge VLAN filtering over rtnetlink, byte for byte as the reference (vishvananda/netlink) and
 * iproute2's `bridge vlan` send it: an RTM_SETLINK (add) or RTM_DELLINK (delete) of family AF_BRIDGE
 * for the port, with IFLA_AF_SPEC { IFLA_BRIDGE_FLAGS = BRIDGE_FLAGS_MASTER, IFLA_BRIDGE_VLAN_INFO }
 * (no NLA_F_NESTED on IFLA_AF_SPEC; the kernel finds it either way). The `netlink` package knows
 * these attributes but keeps one value per type, and VLAN lists repeat IFLA_BRIDGE_VLAN_INFO, so
 * they are encoded and decoded here.
 */

const AF_BRIDGE = 7;
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_SETLINK = 19;
const IFLA_EXT_MASK = 29;
const IFLA_AF_SPEC = 26;
const IFLA_BRIDGE_FLAGS = 0;
const IFLA_BRIDGE_VLAN_INFO = 2;
const BRIDGE_FLAGS_MASTER = 1;
const RTEXT_FILTER_BRVLAN = 2;
const IFINFOMSG_BYTES = 16;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINKINFO = 18;
const IFLA_BR_VLAN_FILTERING = 7;

/** struct bridge_vlan_info's flags (linux/if_bridge.h). */
export const BRIDGE_VLAN_INFO_PVID = 2;
export const BRIDGE_VLAN_INFO_UNTAGGED = 4;
const BRIDGE_VLAN_INFO_RANGE_BEGIN = 8;
const BRIDGE_VLAN_INFO_RANGE_END = 16;

/** One VLAN of a bridge port: ingress untagged frames go to the PVID; `untagged` frames of this VLAN leave without a tag. */
export interface PortVlan {
  vid: number;
  pvid: boolean;
  untagged: boolean;
}

/** struct ifinfomsg of family AF_BRIDGE for link `index` (0 in a dump request). */
function bridgeIfinfomsg(index: number): Buffer {
  const b = Buffer.alloc(IFINFOMSG_BYTES);
  b.writeUInt8(AF_BRIDGE, 0);
  b.writeInt32LE(index, 4);
  return b;
}

/** The payload (after nlmsghdr) that adds (RTM_SETLINK) or deletes (RTM_DELLINK) VLAN `vid` on bridge port `index`. */
export function bridgeVlanMessage(index: number, vlan: PortVlan): Buffer {
  // struct bridge_vlan_info: flags, vid
  const info = Buffer.concat([u16((vlan.pvid ? BRIDGE_VLAN_INFO_PVID : 0) | (vlan.untagged ? BRIDGE_VLAN_INFO_UNTAGGED : 0)), u16(vlan.vid)]);
  return Buffer.concat([bridgeIfinfomsg(index), attr(IFLA_AF_SPEC, attr(IFLA_BRIDGE_FLAGS, u16(BRIDGE_FLAGS_MASTER)), attr(IFLA_BRIDGE_VLAN_INFO, info))]);
}

/** `bridge vlan add dev <port> vid <vid> [pvid] [untagged] master`: adds the VLAN, or changes its flags when the port has it (a PVID moves). */
export async function addPortVlan(sock: RtNetlinkSocket, port: Pick<LinkInfo, 'index' | 'name'>, vlan: PortVlan): Promise<void> {
  const what = `add VLAN ${vlan.vid}${vlan.pvid ? ' pvid' : ''}${vlan.untagged ? ' untagged' : ''} to bridge port ${JSON.stringify(port.name)}`;
  await call(what, () => sock.request(RTM_SETLINK, bridgeVlanMessage(port.index, vlan)));
}

/** `bridge vlan del dev <port> vid <vid> master`; a VLAN the port does not have is not an error. */
export async function deletePortVlan(sock: RtNetlinkSocket, port: Pick<LinkInfo, 'index' | 'name'>, vid: number): Promise<void> {
  try {
    await call(`delete VLAN ${vid} from bridge port ${JSON.stringify(port.name)}`, () =>
      sock.request(RTM_DELLINK, bridgeVlanMessage(port.index, { vid, pvid: false, untagged: false })),
    );
  } catch (err) {
    if (!(err instanceof NetlinkError && err.errno === Errno.ENOENT)) throw err;
  }
}

/** The dump request of every bridge port with its VLANs (`bridge vlan show`): AF_BRIDGE, IFLA_EXT_MASK = RTEXT_FILTER_BRVLAN. */
export function portVlansDumpMessage(): Buffer {
  return Buffer.concat([bridgeIfinfomsg(0), attr(IFLA_EXT_MASK, u32(RTEXT_FILTER_BRVLAN))]);
}

/** The VLANs in one RTM_NEWLINK of an AF_BRIDGE dump (payload after nlmsghdr), ranges expanded. */
export function portVlansOf(payload: Buffer): { index: number; vlans: PortVlan[] } {
  const index = payload.readInt32LE(4);
  const vlans: PortVlan[] = [];
  let rangeStart: number | undefined;
  for (const a of parseAttributes(payload.subarray(IFINFOMSG_BYTES))) {
    if (a.type !== IFLA_AF_SPEC) continue;
    for (const b of parseAttributes(a.data)) {
      if (b.type !== IFLA_BRIDGE_VLAN_INFO || b.data.length < 4) continue;
      const flags = b.data.readUInt16LE(0);
      const vid = b.data.readUInt16LE(2);
      const entry = (v: number) => ({ vid: v, pvid: (flags & BRIDGE_VLAN_INFO_PVID) !== 0, untagged: (flags & BRIDGE_VLAN_INFO_UNTAGGED) !== 0 });
      if (flags & BRIDGE_VLAN_INFO_RANGE_BEGIN) rangeStart = vid;
      else if (flags & BRIDGE_VLAN_INFO_RANGE_END && rangeStart !== undefined) {
        for (let v = rangeStart; v <= vid; v++) vlans.push(entry(v));
        rangeStart = undefined;
      } else vlans.push(entry(vid));
    }
  }
  return { index, vlans };
}

/**
 * Every bridge port of the socket's namespace with its VLANs (`bridge vlan show`), by ifindex. The
 * kernel has no per-port query: this is a dump of all ports, so ADD does not call it.
 */
export async function listPortVlans(sock: RtNetlinkSocket): Promise<Map<number, PortVlan[]>> {
  const [messages] = await call('list bridge port VLANs', () => sock.socket.request(RTM_GETLINK, portVlansDumpMessage(), { flags: FlagsGet.DUMP }));
  const out = new Map<number, PortVlan[]>();
  for (const m of messages) {
    if (m.type !== RTM_NEWLINK) continue;
    const { index, vlans } = portVlansOf(Buffer.from(m.data));
    out.set(index, [...(out.get(index) ?? []), ...vlans]);
  }
  return out;
}

/** What a bridge says about its VLAN filtering (IFLA_INFO_DATA); both undefined on a kernel without it. */
export interface BridgeVlanSettings {
  filtering?: boolean;
  /** The VLAN a new port gets as PVID, untagged (IFLA_BR_VLAN_DEFAULT_PVID; 0: none). */
  defaultPvid?: number;
}

/** The VLAN settings of bridge `index`; undefined when there is no such link. */
export async function bridgeVlanSettings(sock: RtNetlinkSocket, index: number): Promise<BridgeVlanSettings | undefined> {
  try {
    const [msg] = await call(`get link #${index}`, () => sock.getLink({ index }));
    if (!msg) return undefined;
    const data = msg.attrs.linkinfo ? ifla.parseInfo(msg.attrs.linkinfo).data : undefined;
    const br = data ? ifla.parseBridge(data) : {};
    return {
      filtering: br.vlanFiltering?.length ? br.vlanFiltering.readUInt8(0) === 1 : undefined,
      defaultPvid: br.vlanDefaultPvid && br.vlanDefaultPvid.length >= 2 ? br.vlanDefaultPvid.readUInt16LE(0) : undefined,
    };
  } catch (err) {
    if (err instanceof NetlinkError && (err.errno === Errno.ENODEV || err.errno === Errno.ENOENT)) return undefined;
    throw err;
  }
}

/**
 * The RTM_NEWLINK payload of a bridge with VLAN filtering on, as the reference's LinkAdd sends it:
 * IFLA_IFNAME, IFLA_MTU when set, IFLA_LINKINFO { IFLA_INFO_KIND "bridge" (no NUL), IFLA_INFO_DATA
 * { IFLA_BR_VLAN_FILTERING = 1 } }.
 */
export function vlanFilteringBridgeMessage(name: string, mtu?: number): Buffer {
  const info = linkInfo('bridge', { data: attr(IFLA_BR_VLAN_FILTERING, u8(1)) });
  return Buffer.concat([Buffer.alloc(IFINFOMSG_BYTES), attr(IFLA_IFNAME, string(name)), mtu ? attr(IFLA_MTU, u32(mtu)) : Buffer.alloc(0), attr(IFLA_LINKINFO, info)]);
}

/** Creates a bridge with VLAN filtering on (EOPNOTSUPP on a kernel without it); EEXIST is left to the caller. */
export async function createVlanFilteringBridge(sock: RtNetlinkSocket, name: string, mtu?: number): Promise<void> {
  await call(`create bridge ${JSON.stringify(name)} with VLAN filtering`, () =>
    sock.request(RTM_NEWLINK, vlanFilteringBridgeMessage(name, mtu), { flags: FlagsNew.CREATE | FlagsNew.EXCL }),
  );
}
