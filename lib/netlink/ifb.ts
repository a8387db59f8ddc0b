import { Errno, NetlinkError } from '../errors';
import { readU32 } from './attributes';
import { linkInfo, linkKindOf, toBuffer } from './encode';
import { FlagsNew, formatLinkMessage, type RtNetlinkSocket } from './package';
import { call } from './socket';

const RTM_NEWLINK = 16;

/**
 * The RTM_NEWLINK payload of an ifb device that is up at once: name, MTU, txqueuelen 0 (as the
 * reference bandwidth plugin asks) and IFLA_LINKINFO kind "ifb".
 */
export function ifbMessage(name: string, mtu: number): Buffer {
  const attrs = { ifname: name, mtu, txqlen: 0, linkinfo: linkInfo('ifb', { nulTerminatedKind: true }) };
  return toBuffer((out) => formatLinkMessage({ kind: 'link', data: { flags: { up: true }, change: { up: true } }, attrs }, out));
}

/** Creates an ifb device, up; EEXIST is left to the caller. */
export async function createIfb(sock: RtNetlinkSocket, name: string, mtu: number): Promise<void> {
  await call(`create ifb ${JSON.stringify(name)}`, () => sock.request(RTM_NEWLINK, ifbMessage(name, mtu), { flags: FlagsNew.CREATE | FlagsNew.EXCL }));
}

/** A veth's peer as its namespace sees it: the peer's ifindex (IFLA_LINK), valid in the peer's namespace. */
export interface VethPeer {
  index: number;
  kind?: string;
  /** The peer's ifindex; undefined when the link is not a veth or the kernel gave none. */
  peerIndex?: number;
}

/** Link `name` with its kind and IFLA_LINK, or undefined when there is none. */
export async function vethPeerOf(sock: RtNetlinkSocket, name: string): Promise<VethPeer | undefined> {
  try {
    const [msg] = await call(`get link ${JSON.stringify(name)}`, () => sock.getLink({}, { ifname: name }));
    if (!msg) return undefined;
    const kind = linkKindOf(msg.attrs.linkinfo);
    const link = readU32(msg.attrs.link);
    return { index: msg.data.index ?? 0, kind, peerIndex: kind === 'veth' && link ? link : undefined };
  } catch (err) {
    if (err instanceof NetlinkError && (err.errno === Errno.ENODEV || err.errno === Errno.ENOENT)) return undefined;
    throw err;
  }
}
