import { Errno, NetlinkError } from '../errors';
import { readU32 } from './attributes';
import { formatMac, toLinkInfo, type LinkInfo, type LinkMessage } from './links';
import { ifla, type RtNetlinkSocket } from './package';
import { call } from './socket';

/** A link with what LinkInfo leaves out: its alias (IFLA_IFALIAS) and its kind's own attributes (IFLA_INFO_DATA). */
export interface LinkDetails extends LinkInfo {
  alias?: string;
  /** The raw IFLA_INFO_DATA of its kind (macvlan mode, tun owner...), decoded by the kind's module. */
  infoData?: Buffer;
  /** The hardware's own address (IFLA_PERM_ADDRESS), for devices that have one. */
  permanentMac?: string;
  /** IFLA_LINK: the parent's ifindex (a macvlan's master), in the namespace IFLA_LINK_NETNSID names when present. */
  parentIndex?: number;
  /** IFLA_LINK_NETNSID: the parent is in another namespace (the id is this namespace's name for it). */
  parentNetnsId?: number;
}

function toLinkDetails(msg: LinkMessage): LinkDetails {
  const info = msg.attrs.linkinfo ? ifla.parseInfo(msg.attrs.linkinfo) : undefined;
  return {
    ...toLinkInfo(msg),
    alias: msg.attrs.ifalias || undefined,
    infoData: info?.data,
    permanentMac: msg.attrs.permAddress?.length ? formatMac(msg.attrs.permAddress) : undefined,
    parentIndex: readU32(msg.attrs.link),
    parentNetnsId: msg.attrs.linkNetnsid,
  };
}

/** Every link of the socket's namespace with its details. */
export async function listLinkDetails(sock: RtNetlinkSocket): Promise<LinkDetails[]> {
  return (await call('list links', () => sock.getLinks())).map(toLinkDetails);
}

/** Link `name` (or `index`) with its details, or undefined when there is none. */
export async function linkDetails(sock: RtNetlinkSocket, by: { name: string } | { index: number }): Promise<LinkDetails | undefined> {
  const what = 'name' in by ? JSON.stringify(by.name) : `#${by.index}`;
  try {
    const [msg] = await call(`get link ${what}`, () => ('name' in by ? sock.getLink({}, { ifname: by.name }) : sock.getLink({ index: by.index })));
    return msg ? toLinkDetails(msg) : undefined;
  } catch (err) {
    if (err instanceof NetlinkError && (err.errno === Errno.ENODEV || err.errno === Errno.ENOENT)) return undefined;
    throw err;
  }
}

/**
 * Moves a link into the namespace open at `netnsFd` and, in the same RTM_SETLINK, names it `name`
 * there and sets its alias: the kernel moves first (under its current name when that is free in
 * the target, else under `name`), then renames, then sets the alias, so the link never shows up in
 * the source namespace under another name. The move takes the link down and drops its addresses.
 * On EEXIST from the rename the link has moved already: the caller looks for it in the target.
 */
export async function moveLink(sock: RtNetlinkSocket, link: Pick<LinkInfo, 'index' | 'name'>, to: { netnsFd: number; name: string; alias?: string }): Promise<void> {
  await call(`move ${JSON.stringify(link.name)} to another namespace as ${JSON.stringify(to.name)}`, () =>
    sock.setLink({ index: link.index }, { netNsFd: to.netnsFd, ifname: to.name, ifalias: to.alias }),
  );
}

/** Sets a link's alias; an empty one clears it. */
export async function setAlias(sock: RtNetlinkSocket, link: Pick<LinkInfo, 'index' | 'name'>, alias: string): Promise<void> {
  await call(`set alias of ${JSON.stringify(link.name)}`, () => sock.setLink({ index: link.index }, { ifalias: alias }));
}

/** Renames a link (it must be down for most kinds). */
export async function renameLink(sock: RtNetlinkSocket, link: Pick<LinkInfo, 'index' | 'name'>, name: string): Promise<void> {
  await call(`rename ${JSON.stringify(link.name)} to ${JSON.stringify(name)}`, () => sock.setLink({ index: link.index }, { ifname: name }));
}
