import { Errno, NetlinkError } from '../errors';
import { attr, nested, u8 } from './attributes';
import { toBuffer } from './encode';
import type { LinkInfo } from './links';
import { formatLinkMessage, ifla, type RtNetlinkSocket } from './package';
import { call } from './socket';

const AF_BRIDGE = 7;
const RTM_SETLINK = 19;
const IFLA_PROTINFO = 12;
const IFLA_BRPORT_MODE = 4;
const IFLA_BRPORT_ISOLATED = 33;

/**
 * The RTM_SETLINK payload (after nlmsghdr) that sets one u8 bridge port attribute (IFLA_BRPORT_*)
 * of port `index`: family AF_BRIDGE, the attribute inside IFLA_PROTINFO | NLA_F_NESTED, as
 * vishvananda/netlink's setProtinfoAttr and iproute2's `bridge link set` send it. The kernel reads a
 * PROTINFO without NLA_F_NESTED as a bare port state, and the `netlink` package never sets that
 * flag, so the attributes are encoded here. (sysfs would do too, but may be read-only.)
 */
export function bridgePortFlagMessage(index: number, attribute: number, on: boolean): Buffer {
  const header = toBuffer((out) => formatLinkMessage({ kind: 'link', data: { family: AF_BRIDGE, index }, attrs: {} }, out));
  return Buffer.concat([header, nested(IFLA_PROTINFO, attr(attribute, u8(on ? 1 : 0)))]);
}

/** Hairpin mode of a bridge port: IFLA_BRPORT_MODE inside IFLA_PROTINFO. */
export async function setHairpin(sock: RtNetlinkSocket, port: LinkInfo, on: boolean): Promise<void> {
  await call(`set hairpin on bridge port ${JSON.stringify(port.name)}`, () => sock.request(RTM_SETLINK, bridgePortFlagMessage(port.index, IFLA_BRPORT_MODE, on)));
}

export const hairpinMessage = (index: number, on: boolean): Buffer => bridgePortFlagMessage(index, IFLA_BRPORT_MODE, on);
export const isolatedMessage = (index: number, on: boolean): Buffer => bridgePortFlagMessage(index, IFLA_BRPORT_ISOLATED, on);

/**
 * Port isolation (`bridge link set dev <port> isolated on`, the reference's netlink.LinkSetIsolated):
 * an isolated port exchanges no frames with other isolated ports of its bridge, only with the others
 * and the bridge itself (Linux 4.18 and later).
 */
export async function setPortIsolated(sock: RtNetlinkSocket, port: Pick<LinkInfo, 'index' | 'name'>, on: boolean): Promise<void> {
  await call(`set isolated ${on ? 'on' : 'off'} on bridge port ${JSON.stringify(port.name)}`, () => sock.request(RTM_SETLINK, isolatedMessage(port.index, on)));
}

/** What a bridge port's IFLA_INFO_SLAVE_DATA says (`ip -d link show`); undefined when the link is missing or not a bridge port. */
export interface BridgePortState {
  hairpin: boolean;
  isolated: boolean;
}

export async function bridgePortState(sock: RtNetlinkSocket, index: number): Promise<BridgePortState | undefined> {
  try {
    const [msg] = await call(`get link #${index}`, () => sock.getLink({ index }));
    const info = msg?.attrs.linkinfo ? ifla.parseInfo(msg.attrs.linkinfo) : undefined;
    if (info?.slaveKind !== 'bridge' || !info.slaveData) return undefined;
    const port = ifla.parseBridgePort(info.slaveData);
    return { hairpin: port.mode === 1, isolated: (port.isolated?.length ?? 0) > 0 && port.isolated?.readUInt8(0) === 1 };
  } catch (err) {
    if (err instanceof NetlinkError && (err.errno === Errno.ENODEV || err.errno === Errno.ENOENT)) return undefined;
    throw err;
  }
}
