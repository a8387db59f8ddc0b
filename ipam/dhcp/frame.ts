/**
 * The IPv4 and UDP headers around a DHCP message, which a packet socket leaves to us (the kernel
 * adds only the Ethernet header). Pure functions, golden-tested in message.test.ts.
 */

export interface UdpDatagram {
  source: Buffer;
  destination: Buffer;
  sourcePort: number;
  destinationPort: number;
  payload: Buffer;
}

const IP_HEADER = 20;
const UDP_HEADER = 8;
const UDP = 17;
const TTL = 64;

/** The one's complement sum of 16-bit words (RFC 1071), of several buffers as if concatenated (each of even length but the last). */
function checksum(...parts: Buffer[]): number {
  let sum = 0;
  for (const part of parts) {
    for (let i = 0; i + 1 < part.length; i += 2) sum += (part[i] << 8) | part[i + 1];
    if (part.length % 2) sum += part[part.length - 1] << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An IPv4 datagram (no options, DF clear, TTL 64, id 0) carrying one UDP datagram, both checksums set. */
export function encodeUdp(d: UdpDatagram): Buffer {
  const udpLength = UDP_HEADER + d.payload.length;
  const ip = Buffer.alloc(IP_HEADER);
  ip[0] = 0x45;
  ip.writeUInt16BE(IP_HEADER + udpLength, 2);
  ip[8] = TTL;
  ip[9] = UDP;
  d.source.copy(ip, 12);
  d.destination.copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const udp = Buffer.alloc(UDP_HEADER);
  udp.writeUInt16BE(d.sourcePort, 0);
  udp.writeUInt16BE(d.destinationPort, 2);
  udp.writeUInt16BE(udpLength, 4);
  const pseudo = Buffer.alloc(12);
  d.source.copy(pseudo, 0);
  d.destination.copy(pseudo, 4);
  pseudo[9] = UDP;
  pseudo.writeUInt16BE(udpLength, 10);
  // zero means "no checksum" in UDP over IPv4, so a computed zero is sent as all ones
  udp.writeUInt16BE(checksum(pseudo, udp, d.payload) || 0xffff, 6);
  return Buffer.concat([ip, udp, d.payload]);
}

/**
 * The UDP datagram in an IPv4 packet, or undefined when it is not one (another protocol, a
 * fragment, lengths that do not add up, a bad header checksum). The UDP checksum is not checked:
 * a packet captured on a veth may carry one the sender left to offloading, still unfilled.
 */
export function decodeUdp(packet: Buffer): UdpDatagram | undefined {
  if (packet.length < IP_HEADER || packet[0] >> 4 !== 4) return undefined;
  const headerLength = (packet[0] & 0x0f) * 4;
  const total = packet.readUInt16BE(2);
  if (headerLength < IP_HEADER || total > packet.length || total < headerLength + UDP_HEADER) return undefined;
  if (packet[9] !== UDP || packet.readUInt16BE(6) & 0x3fff) return undefined;
  if (checksum(packet.subarray(0, headerLength)) !== 0) return undefined;
  const udp = packet.subarray(headerLength, total);
  const udpLength = udp.readUInt16BE(4);
  if (udpLength < UDP_HEADER || udpLength > udp.length) return undefined;
  return {
    source: Buffer.from(packet.subarray(12, 16)),
    destination: Buffer.from(packet.subarray(16, 20)),
    sourcePort: udp.readUInt16BE(0),
    destinationPort: udp.readUInt16BE(2),
    payload: Buffer.from(udp.subarray(UDP_HEADER, udpLength)),
  };
}
