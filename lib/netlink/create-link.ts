import type { RtNetlinkSocket } from 'netlink/dist/rt/rt';
import { FlagsNew } from 'netlink/dist/constants';
import type * as ifla from 'netlink/dist/rt/ifla';
import { macToBytes } from './encode';
import { call } from './socket';

/** A link of a virtual kind (ipvlan, vlan, dummy...) as one RTM_NEWLINK creates it. */
export interface NewLinkSpec {
  name: string;
  /** IFLA_INFO_KIND: "ipvlan", "vlan", "dummy"... */
  kind: string;
  /** IFLA_INFO_DATA's attributes for that kind, encoded by its module (ipvlan.ts, vlan.ts) with `rtattr`. */
  infoData?: Buffer;
  /** IFLA_LINK: the parent (master), an ifindex in the namespace of the socket that creates the link. */
  parentIndex?: number;
  mtu?: number;
  mac?: string;
  /** IFLA_NET_NS_FD: the namespace the link is born in; absent, the socket's own. */
  netnsFd?: number;
}

const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;

/** One netlink attribute, padded to 4 bytes; its length counts the payload, not the padding. */
export function rtattr(type: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(4 + payload.length + ((4 - (payload.length % 4)) % 4));
  out.writeUInt16LE(4 + payload.length, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

export function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return b;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
}

/** IFLA_LINKINFO's content as iproute2 and vishvananda/netlink write it: the kind without a NUL, then the data. */
export function kindInfo(kind: string, infoData?: Buffer): Buffer {
  const parts = [rtattr(IFLA_INFO_KIND, Buffer.from(kind))];
  if (infoData) parts.push(rtattr(IFLA_INFO_DATA, infoData));
  return Buffer.concat(parts);
}

/**
 * The attributes of that RTM_NEWLINK, in iproute2's order (IFLA_LINK, IFLA_IFNAME, ..., IFLA_LINKINFO).
 * No IFLA_TXQLEN: the kernel's default stays (the reference's release 1.1.1 sent 0).
 */
export function newLinkAttrs(spec: NewLinkSpec): ifla.LinkAttrs {
  return {
    link: spec.parentIndex === undefined ? undefined : u32(spec.parentIndex),
    ifname: spec.name,
    mtu: spec.mtu,
    address: spec.mac ? macToBytes(spec.mac) : undefined,
    netNsFd: spec.netnsFd,
    linkinfo: kindInfo(spec.kind, spec.infoData),
  };
}

/**
 * Creates the link in one message, born in the namespace `netnsFd` (when given) under its final
 * name: the kernel checks the name there, not beside the parent. EEXIST when the name is taken in
 * the target; EOPNOTSUPP when the kernel lacks the kind.
 */
export async function createLink(sock: RtNetlinkSocket, spec: NewLinkSpec): Promise<void> {
  const on = spec.parentIndex === undefined ? '' : ` on #${spec.parentIndex}`;
  await call(`create ${spec.kind} ${JSON.stringify(spec.name)}${on}`, () => sock.newLink({}, newLinkAttrs(spec), { flags: FlagsNew.CREATE | FlagsNew.EXCL }));
}
