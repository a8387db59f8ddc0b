import { EventEmitter } from 'node:events';
import { parsePrefix } from '../ip';
import { addAddress, listAddresses } from './addresses';
import { createBridge, createVethPair, deleteLink, linkByIndex, linkByName, listLinks, setLinkUp, setMaster, setMtu } from './links';
import { NetlinkSocket, RtNetlinkSocket } from './package';
import { addRoute, listRoutes, outputInterface } from './routes';

const HEADER_BYTES = 16;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_MULTI = 0x2;
const NLM_F_DUMP = 0x300;
/** RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE: answered with the matching RTM_NEW* message. */
const GET_TYPES = new Set([18, 22, 26]);

function message(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(HEADER_BYTES + payload.length, 0);
  header.writeUInt16LE(type, 4);
  header.writeUInt16LE(flags, 6);
  header.writeUInt32LE(seq, 8);
  return Buffer.concat([header, payload]);
}

/**
 * A stand-in for the kernel's rtnetlink socket, for a warm worker's warm-up only: it answers a GET
 * with the request's own message (one, or a dump of one), anything else with a success ACK.
 */
class EchoSocket extends EventEmitter {
  address(): { port: number } {
    return { port: 1 };
  }
  ref(): void {}
  unref(): void {}
  close(): void {}
  send(data: Uint8Array | Uint8Array[], _options: unknown, callback?: (error?: Error) => void): void {
    const request = Buffer.concat(Array.isArray(data) ? data : [data]);
    const type = request.readUInt16LE(4);
    const flags = request.readUInt16LE(6);
    const seq = request.readUInt32LE(8);
    const payload = request.subarray(HEADER_BYTES);
    let reply: Buffer;
    if (!GET_TYPES.has(type)) reply = message(NLMSG_ERROR, 0, seq, Buffer.concat([Buffer.alloc(4), request.subarray(0, HEADER_BYTES)]));
    else if ((flags & NLM_F_DUMP) === NLM_F_DUMP) reply = Buffer.concat([message(type - 2, NLM_F_MULTI, seq, payload), message(NLMSG_DONE, NLM_F_MULTI, seq, Buffer.alloc(4))]);
    else reply = message(type - 2, 0, seq, payload);
    queueMicrotask(() => this.emit('message', reply, {}));
    callback?.();
  }
}

/**
 * Runs the link, address and route verbs once against EchoSocket before a warm worker waits for
 * calls, so their code and the netlink package's message codecs are compiled by then (see
 * lib/workers/warm-up.ts). Nothing reaches the kernel or the native binding.
 */
export async function warmUpNetlink(): Promise<void> {
  const sock = new RtNetlinkSocket(new NetlinkSocket(new EchoSocket() as never));
  const link = (await linkByName(sock, 'eth0')) ?? { index: 2, name: 'eth0', up: false, loopback: false, promisc: false, allmulti: false };
  await linkByIndex(sock, 2);
  await listLinks(sock);
  await createBridge(sock, 'cni0', 1500);
  await createVethPair(sock, { hostName: 'veth0', peerName: 'eth0', peerNetnsFd: 3, mtu: 1500, peerMac: '0a:58:0a:58:00:02' });
  await setMaster(sock, link, 3);
  await setMtu(sock, link, 1500);
  await setLinkUp(sock, link, true);
  for (const [address, length] of [
    ['10.88.0.2', 16],
    ['fd00::2', 64],
  ] as const) {
    const prefix = parsePrefix(`${address}/${length}`)!;
    await addAddress(sock, link.index, prefix.ip, length, true);
    await addRoute(sock, { dst: parsePrefix(prefix.ip.family === 4 ? '0.0.0.0/0' : '::/0')!, gw: prefix.ip, linkIndex: link.index });
    await outputInterface(sock, prefix.ip);
  }
  await listAddresses(sock, link.index);
  await listRoutes(sock, 4);
  await deleteLink(sock, link.index);
}
