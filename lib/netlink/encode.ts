import { attr, string } from './attributes';
import { AttrStream, formatLinkMessage, ifla, type StreamData } from './package';

const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;

/** The bytes the `netlink` package's formatters write into a stream. */
export function toBuffer(data: StreamData): Buffer {
  const stream = new AttrStream();
  stream.emit(data);
  return Buffer.concat(stream.bufs);
}

/**
 * IFLA_LINKINFO's content, which the `netlink` package leaves as raw bytes: IFLA_INFO_KIND, then
 * IFLA_INFO_DATA (the kind's own attributes) when given. The kind goes without a NUL, as iproute2
 * and the reference write it, unless `nulTerminatedKind`; the kernel reads either.
 */
export function linkInfo(kind: string, { data, nulTerminatedKind = false }: { data?: Buffer; nulTerminatedKind?: boolean } = {}): Buffer {
  const kindAttr = attr(IFLA_INFO_KIND, nulTerminatedKind ? string(kind) : Buffer.from(kind));
  return data ? Buffer.concat([kindAttr, attr(IFLA_INFO_DATA, data)]) : kindAttr;
}

/** IFLA_LINKINFO of a veth: VETH_INFO_PEER carries a whole ifinfomsg plus attributes for the peer end. */
export function vethPeerInfo(peer: ifla.LinkAttrs): Buffer {
  const peerMessage = toBuffer((out) => formatLinkMessage({ kind: 'link', data: {}, attrs: peer }, out));
  return linkInfo('veth', { data: attr(VETH_INFO_PEER, peerMessage), nulTerminatedKind: true });
}

export function linkKindOf(info: Buffer | undefined): string | undefined {
  return info ? ifla.parseInfo(info).kind : undefined;
}

export function macToBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((b) => parseInt(b, 16)));
}
