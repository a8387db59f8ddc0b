import { u32 } from './attributes';
import { linkInfo, macToBytes } from './encode';
import { FlagsNew, type ifla, type RtNetlinkSocket } from './package';
import { call } from './socket';

/** A link of a virtual kind (ipvlan, vlan, dummy...) as one RTM_NEWLINK creates it. */
export interface NewLinkSpec {
  name: string;
  /** IFLA_INFO_KIND: "ipvlan", "vlan", "dummy"... */
  kind: string;
  /** IFLA_INFO_DATA's attributes for that kind, encoded by its module (ipvlan.ts, vlan.ts) with lib/netlink/attributes. */
  infoData?: Buffer;
  /** IFLA_LINK: the parent (master), an ifindex in the namespace of the socket that creates the link. */
  parentIndex?: number;
  mtu?: number;
  mac?: string;
  /** IFLA_NET_NS_FD: the namespace the link is born in; absent, the socket's own. */
  netnsFd?: number;
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
    linkinfo: linkInfo(spec.kind, { data: spec.infoData }),
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
