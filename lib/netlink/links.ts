import { Errno, NetlinkError } from '../errors';
import { linkInfo, linkKindOf, macToBytes, vethPeerInfo } from './encode';
import { FlagsNew, type RtNetlinkSocket } from './package';
import { call, openSocketIn } from './socket';

const CREATE_EXCLUSIVE = { flags: FlagsNew.CREATE | FlagsNew.EXCL };

export interface LinkInfo {
  index: number;
  name: string;
  up: boolean;
  loopback: boolean;
  mac?: string;
  mtu?: number;
  masterIndex?: number;
  /** IFLA_INFO_KIND: "bridge", "veth"... undefined for plain devices such as lo. */
  kind?: string;
  promisc: boolean;
  allmulti: boolean;
  txQLen?: number;
}

export type LinkMessage = Awaited<ReturnType<RtNetlinkSocket['getLinks']>>[number];

export function toLinkInfo(msg: LinkMessage): LinkInfo {
  return {
    index: msg.data.index ?? 0,
    name: msg.attrs.ifname ?? '',
    up: Boolean(msg.data.flags?.up),
    loopback: Boolean(msg.data.flags?.loopback),
    mac: msg.attrs.address ? formatMac(msg.attrs.address) : undefined,
    mtu: msg.attrs.mtu,
    masterIndex: msg.attrs.master,
    kind: linkKindOf(msg.attrs.linkinfo),
    promisc: Boolean(msg.data.flags?.promisc),
    allmulti: Boolean(msg.data.flags?.allmulti),
    txQLen: msg.attrs.txqlen,
  };
}

export function formatMac(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The link called `name`, or undefined when there is none. */
export async function linkByName(sock: RtNetlinkSocket, name: string): Promise<LinkInfo | undefined> {
  try {
    const [msg] = await call(`get link ${JSON.stringify(name)}`, () => sock.getLink({}, { ifname: name }));
    return msg ? toLinkInfo(msg) : undefined;
  } catch (err) {
    if (err instanceof NetlinkError && (err.errno === Errno.ENODEV || err.errno === Errno.ENOENT)) return undefined;
    throw err;
  }
}

/**
 * Opens a socket in the namespace at `netnsPath`, finds the link called `name` there (undefined
 * when it has none), runs `fn` with both, and closes the socket whatever `fn` does.
 */
export async function withLinkIn<T>(netnsPath: string, name: string, fn: (sock: RtNetlinkSocket, link: LinkInfo | undefined) => Promise<T>): Promise<T> {
  const sock = openSocketIn(netnsPath);
  try {
    return await fn(sock, await linkByName(sock, name));
  } finally {
    sock.socket.close();
  }
}

export async function listLinks(sock: RtNetlinkSocket): Promise<LinkInfo[]> {
  return (await call('list links', () => sock.getLinks())).map(toLinkInfo);
}

export async function setLinkUp(sock: RtNetlinkSocket, link: LinkInfo, up: boolean): Promise<void> {
  await call(`set link ${JSON.stringify(link.name)} ${up ? 'up' : 'down'}`, () => sock.setLink({ index: link.index, flags: { up: up || undefined }, change: { up: true } }));
}

export async function linkByIndex(sock: RtNetlinkSocket, index: number): Promise<LinkInfo | undefined> {
  try {
    const [msg] = await call(`get link #${index}`, () => sock.getLink({ index }));
    return msg ? toLinkInfo(msg) : undefined;
  } catch (err) {
    if (err instanceof NetlinkError && (err.errno === Errno.ENODEV || err.errno === Errno.ENOENT)) return undefined;
    throw err;
  }
}

/** Creates a bridge; EEXIST is left to the caller (someone else may have created it first). */
export async function createBridge(sock: RtNetlinkSocket, name: string, mtu?: number): Promise<void> {
  await call(`create bridge ${JSON.stringify(name)}`, () => sock.newLink({}, { ifname: name, mtu, linkinfo: linkInfo('bridge', { nulTerminatedKind: true }) }, CREATE_EXCLUSIVE));
}

export interface VethPairSpec {
  hostName: string;
  peerName: string;
  /** fd of the namespace the peer is created in: one message, no move step. */
  peerNetnsFd: number;
  mtu?: number;
  peerMac?: string;
}

export async function createVethPair(sock: RtNetlinkSocket, spec: VethPairSpec): Promise<void> {
  const peer = { ifname: spec.peerName, netNsFd: spec.peerNetnsFd, mtu: spec.mtu, address: spec.peerMac ? macToBytes(spec.peerMac) : undefined };
  await call(`create veth pair ${JSON.stringify(spec.hostName)}/${JSON.stringify(spec.peerName)}`, () =>
    sock.newLink({}, { ifname: spec.hostName, mtu: spec.mtu, linkinfo: vethPeerInfo(peer) }, CREATE_EXCLUSIVE),
  );
}

export async function setMaster(sock: RtNetlinkSocket, link: LinkInfo, masterIndex: number): Promise<void> {
  await call(`attach ${JSON.stringify(link.name)} to #${masterIndex}`, () => sock.setLink({ index: link.index }, { master: masterIndex }));
}

export async function setPromisc(sock: RtNetlinkSocket, link: LinkInfo, on: boolean): Promise<void> {
  await call(`set ${JSON.stringify(link.name)} promisc ${on ? 'on' : 'off'}`, () =>
    sock.setLink({ index: link.index, flags: { promisc: on || undefined }, change: { promisc: true } }),
  );
}

export async function setAllmulti(sock: RtNetlinkSocket, link: LinkInfo, on: boolean): Promise<void> {
  await call(`set ${JSON.stringify(link.name)} allmulticast ${on ? 'on' : 'off'}`, () =>
    sock.setLink({ index: link.index, flags: { allmulti: on || undefined }, change: { allmulti: true } }),
  );
}

export async function setMtu(sock: RtNetlinkSocket, link: LinkInfo, mtu: number): Promise<void> {
  await call(`set ${JSON.stringify(link.name)} mtu ${mtu}`, () => sock.setLink({ index: link.index }, { mtu }));
}

export async function setTxQLen(sock: RtNetlinkSocket, link: LinkInfo, txQLen: number): Promise<void> {
  await call(`set ${JSON.stringify(link.name)} txqueuelen ${txQLen}`, () => sock.setLink({ index: link.index }, { txqlen: txQLen }));
}

export async function setMac(sock: RtNetlinkSocket, link: LinkInfo, mac: string): Promise<void> {
  await call(`set ${JSON.stringify(link.name)} address ${mac}`, () => sock.setLink({ index: link.index }, { address: macToBytes(mac) }));
}

/** Deletes a link; a link that is already gone is not an error. */
export async function deleteLink(sock: RtNetlinkSocket, index: number): Promise<void> {
  try {
    await call(`delete link #${index}`, () => sock.delLink({ index }));
  } catch (err) {
    if (err instanceof NetlinkError && (err.errno === Errno.ENODEV || err.errno === Errno.ENOENT)) return;
    throw err;
  }
}
