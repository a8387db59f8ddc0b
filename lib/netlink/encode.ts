import { AttrStream, type StreamData } from 'netlink/dist/structs';
import * as ifla from 'netlink/dist/rt/ifla';
import { formatLinkMessage } from 'netlink/dist/rt/structs';

/** The `netlink` package leaves IFLA_LINKINFO as raw bytes; these build the nested attributes it needs. */
export function toBuffer(data: StreamData): Buffer {
  const stream = new AttrStream();
  stream.emit(data);
  return Buffer.concat(stream.bufs);
}

export function linkInfo(kind: string, data?: Buffer): Buffer {
  return toBuffer(ifla.formatInfo({ kind, data }));
}

/** VETH_INFO_PEER carries a whole ifinfomsg plus attributes for the peer end. */
export function vethPeerInfo(peer: ifla.LinkAttrs): Buffer {
  const peerMessage = toBuffer((out) => formatLinkMessage({ kind: 'link', data: {}, attrs: peer }, out));
  return linkInfo('veth', toBuffer(ifla.formatVethInfo({ peer: peerMessage })));
}

export function linkKindOf(info: Buffer | undefined): string | undefined {
  return info ? ifla.parseInfo(info).kind : undefined;
}

export function macToBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((b) => parseInt(b, 16)));
}
