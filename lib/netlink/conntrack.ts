import { Errno, NetlinkError } from '../errors';
import { attr, attributeMap, nested } from './attributes';
import { createNetlink } from './package';
import { call } from './socket';

const NETLINK_NETFILTER = 12;
const NFNL_SUBSYS_CTNETLINK = 1;
const IPCTNL_MSG_CT_GET = 1;
const IPCTNL_MSG_CT_DELETE = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_DUMP = 0x300;
const CTA_TUPLE_ORIG = 1;
const CTA_ZONE = 18;
const CTA_TUPLE_PROTO = 2;
const CTA_PROTO_NUM = 1;
const CTA_PROTO_DST_PORT = 3;
const IPPROTO = { tcp: 6, udp: 17, sctp: 132 } as const;
const AF = { 4: 2, 6: 10 } as const;

/** struct nfgenmsg: the family, NFNETLINK_V0, resource id 0. */
const nfgenmsg = (family: 4 | 6): Buffer => Buffer.from([AF[family], 0, 0, 0]);
const ctnetlink = (message: number) => (NFNL_SUBSYS_CTNETLINK << 8) | message;

/** The original direction's protocol and destination port of one conntrack entry's attributes. */
function origProtoAndPort(attributes: Map<number, Buffer>): { protocol?: number; port?: number } {
  const proto = attributeMap(attributeMap(attributes.get(CTA_TUPLE_ORIG)).get(CTA_TUPLE_PROTO));
  const port = proto.get(CTA_PROTO_DST_PORT);
  return { protocol: proto.get(CTA_PROTO_NUM)?.readUInt8(0), port: port && port.length >= 2 ? port.readUInt16BE(0) : undefined };
}

/**
 * Deletes the connection tracking entries of `protocol` and `family` whose original destination
 * port is `port`, in the namespace this process is in, as the reference's
 * DeleteConntrackEntriesForDstPort does (a dump, then one delete per entry by its tuple). Returns
 * how many went; an entry that ended meanwhile is not an error.
 */
export async function deleteConntrackToPort(family: 4 | 6, protocol: keyof typeof IPPROTO, port: number): Promise<number> {
  const sock = createNetlink(NETLINK_NETFILTER);
  try {
    const [messages] = await call('list connection tracking entries', () => sock.request(ctnetlink(IPCTNL_MSG_CT_GET), nfgenmsg(family), { flags: NLM_F_REQUEST | NLM_F_DUMP }));
    let deleted = 0;
    for (const message of messages) {
      if (message.data.length <= 4) continue;
      const attributes = attributeMap(message.data.subarray(4));
      const orig = origProtoAndPort(attributes);
      if (orig.protocol !== IPPROTO[protocol] || orig.port !== port) continue;
      const zone = attributes.get(CTA_ZONE);
      const request = [nfgenmsg(family), nested(CTA_TUPLE_ORIG, attributes.get(CTA_TUPLE_ORIG)!), ...(zone ? [attr(CTA_ZONE, zone)] : [])];
      try {
        await call('delete a connection tracking entry', () => sock.request(ctnetlink(IPCTNL_MSG_CT_DELETE), Buffer.concat(request), { flags: NLM_F_REQUEST | NLM_F_ACK }));
        deleted++;
      } catch (err) {
        if (!(err instanceof NetlinkError && err.errno === Errno.ENOENT)) throw err; // it ended meanwhile
      }
    }
    return deleted;
  } finally {
    sock.close();
  }
}
