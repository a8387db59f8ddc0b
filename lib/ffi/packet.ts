import { Errno, SyscallError } from '../errors';
import { loadKoffi } from '../start/native';

/**
 * AF_PACKET datagram sockets (packet(7), SOCK_DGRAM: the kernel adds and strips the link header)
 * through koffi: what a DHCP client needs on an interface that has no address yet, where a UDP
 * socket would depend on the namespace's rp_filter and routes to see a broadcast reply.
 *
 * A socket belongs to the network namespace it was created in, so open it inside `withNetns`
 * (synchronous, one call); sending and receiving afterwards need no switching. Node's event loop
 * cannot watch such a descriptor (libuv takes only TCP, UDP, pipes and ttys), so `receive` is
 * non-blocking and the caller polls it while it waits for an answer.
 */
export interface PacketSocket {
  readonly fd: number;
  readonly ifindex: number;
  /** Sends one network-layer packet (an IPv4 datagram for ETH_P_IP) to the link-layer address `mac`. */
  send(packet: Buffer, mac: Buffer): void;
  /** Every packet queued now (none: an empty list), without waiting. Outgoing copies are skipped. */
  receive(): ReceivedPacket[];
  close(): void;
}

export interface ReceivedPacket {
  data: Buffer;
  /** The link-layer source address (the sender's MAC on Ethernet). */
  sourceMac: Buffer;
}

/** One instruction of a classic BPF program (struct sock_filter). */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const ETH_P_IP = 0x0800;
export const BROADCAST_MAC = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

const AF_PACKET = 17;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;
const MSG_DONTWAIT = 0x40;
const PACKET_OUTGOING = 4;
const SOCKADDR_LL_SIZE = 20;
const RECEIVE_BUFFER = 65536;

/**
 * A program accepting IPv4 UDP datagrams to `port` (no later fragments), for a SOCK_DGRAM packet socket
 * (the data starts at the IP header): the kernel drops the rest of the interface's traffic before
 * it reaches the socket's queue.
 */
export function udpDestinationPortFilter(port: number): SockFilter[] {
  return [
    { code: 0x30, jt: 0, jf: 0, k: 9 }, // ldb [9]: protocol
    { code: 0x15, jt: 0, jf: 6, k: 17 }, // jeq #17 (UDP), else drop
    { code: 0x28, jt: 0, jf: 0, k: 6 }, // ldh [6]: flags and fragment offset
    { code: 0x45, jt: 4, jf: 0, k: 0x1fff }, // jset #0x1fff: a later fragment, drop
    { code: 0xb1, jt: 0, jf: 0, k: 0 }, // ldxb 4*([0]&0xf): IP header length
    { code: 0x48, jt: 0, jf: 0, k: 2 }, // ldh [x+2]: UDP destination port
    { code: 0x15, jt: 0, jf: 1, k: port }, // jeq #port
    { code: 0x06, jt: 0, jf: 0, k: 0x40000 }, // ret: accept
    { code: 0x06, jt: 0, jf: 0, k: 0 }, // ret: drop
  ];
}

interface PacketCalls {
  socket(domain: number, type: number, protocol: number): number;
  attachFilter(fd: number, filter: SockFilter[]): number;
  bind(fd: number, addr: Buffer, len: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, alen: number): number;
  recvfrom(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, alen: number[]): number;
  close(fd: number): number;
  errno(): number;
}

let bound: PacketCalls | undefined;

function calls(): PacketCalls {
  if (bound) return bound;
  const koffi = loadKoffi();
  const lib = koffi.load('libc.so.6');
  const filterType = koffi.struct('cni_ts_sock_filter', { code: 'uint16_t', jt: 'uint8_t', jf: 'uint8_t', k: 'uint32_t' });
  const fprogType = koffi.struct('cni_ts_sock_fprog', { len: 'uint16_t', filter: koffi.pointer(filterType) });
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const setsockopt = lib.func('setsockopt', 'int', ['int', 'int', 'int', koffi.pointer(fprogType), 'unsigned int']);
  const bind = lib.func('int bind(int fd, const void *addr, unsigned int len)');
  const sendto = lib.func('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, unsigned int alen)');
  const recvfrom = lib.func('long recvfrom(int fd, _Out_ void *buf, size_t len, int flags, _Out_ void *addr, _Inout_ unsigned int *alen)');
  const close = lib.func('int close(int fd)');
  const fprogSize = koffi.sizeof(fprogType);
  bound = {
    socket: (domain, type, protocol) => socket(domain, type, protocol),
    attachFilter: (fd, filter) => setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: filter.length, filter }, fprogSize),
    bind: (fd, addr, len) => bind(fd, addr, len),
    sendto: (fd, buf, len, flags, addr, alen) => Number(sendto(fd, buf, len, flags, addr, alen)),
    recvfrom: (fd, buf, len, flags, addr, alen) => Number(recvfrom(fd, buf, len, flags, addr, alen)),
    close: (fd) => close(fd),
    errno: () => koffi.errno(),
  };
  return bound;
}

function linkAddress(ifindex: number, protocol: number, mac?: Buffer): Buffer {
  const addr = Buffer.alloc(SOCKADDR_LL_SIZE);
  addr.writeUInt16LE(AF_PACKET, 0);
  addr.writeUInt16BE(protocol, 2);
  addr.writeInt32LE(ifindex, 4);
  if (mac) {
    addr[11] = mac.length;
    mac.copy(addr, 12);
  }
  return addr;
}

/**
 * A packet socket for `protocol` bound to the interface `ifindex` of the calling thread's network
 * namespace, receiving only what `filter` accepts. The filter is attached before the socket is
 * bound (it receives nothing until then), so no unfiltered packet is ever queued.
 * Bring the interface up first: a socket bound to a down interface reports ENETDOWN on its next call.
 */
export function openPacketSocket(ifindex: number, protocol: number, filter: SockFilter[]): PacketSocket {
  const c = calls();
  const fd = c.socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SyscallError(c.errno(), 'socket(AF_PACKET)', `ifindex ${ifindex}`);
  try {
    if (c.attachFilter(fd, filter) !== 0) throw new SyscallError(c.errno(), 'setsockopt(SO_ATTACH_FILTER)', `ifindex ${ifindex}`);
    const self = linkAddress(ifindex, protocol);
    if (c.bind(fd, self, self.length) !== 0) throw new SyscallError(c.errno(), 'bind(AF_PACKET)', `ifindex ${ifindex}`);
  } catch (err) {
    c.close(fd);
    throw err;
  }
  let open = true;
  const buffer = Buffer.alloc(RECEIVE_BUFFER);
  const from = Buffer.alloc(SOCKADDR_LL_SIZE);
  return {
    fd,
    ifindex,
    send(packet, mac) {
      const to = linkAddress(ifindex, protocol, mac);
      if (c.sendto(fd, packet, packet.length, 0, to, to.length) < 0) throw new SyscallError(c.errno(), 'sendto(AF_PACKET)', `ifindex ${ifindex}`);
    },
    receive() {
      const packets: ReceivedPacket[] = [];
      while (open) {
        const length = [SOCKADDR_LL_SIZE];
        const n = c.recvfrom(fd, buffer, buffer.length, MSG_DONTWAIT, from, length);
        if (n < 0) {
          const errno = c.errno();
          if (errno === Errno.EAGAIN || errno === Errno.EINTR) break;
          throw new SyscallError(errno, 'recvfrom(AF_PACKET)', `ifindex ${ifindex}`);
        }
        if (from[10] === PACKET_OUTGOING) continue;
        packets.push({ data: Buffer.from(buffer.subarray(0, n)), sourceMac: Buffer.from(from.subarray(12, 12 + Math.min(from[11], 8))) });
      }
      return packets;
    },
    close() {
      if (!open) return;
      open = false;
      c.close(fd);
    },
  };
}
