/**
 * DHCPv4 messages (RFC 2131 section 2, options RFC 2132): encoding, decoding, and the options the
 * client reads. Pure functions over Buffers, golden-tested in message.test.ts.
 */

export const MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

export const MESSAGE_TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(MessageType).map(([name, value]) => [value, `DHCP${name}`]));

export const Option = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS_SERVERS: 6,
  HOST_NAME: 12,
  DOMAIN_NAME: 15,
  STATIC_ROUTES: 33,
  VENDOR_CLASS: 60,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  CLIENT_ID: 61,
  USER_CLASS: 77,
  DOMAIN_SEARCH: 119,
  CLASSLESS_ROUTES: 121,
  END: 255,
} as const;

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const FLAG_BROADCAST = 0x8000;
export const CLIENT_PORT = 68;
export const SERVER_PORT = 67;
/** Our option 57: replies up to an Ethernet frame's IP payload. */
export const MAX_MESSAGE_SIZE = 1500;

const MAGIC_COOKIE = 0x63825363;
const FIXED_LENGTH = 236;
const OPTIONS_START = FIXED_LENGTH + 4;
/** BOOTP's minimum message (RFC 951); some servers and relays drop shorter ones. */
const MIN_LENGTH = 300;

export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: Buffer;
  yiaddr: Buffer;
  siaddr: Buffer;
  giaddr: Buffer;
  /** The client's hardware address, hlen bytes. */
  chaddr: Buffer;
  /** Options in the order they are sent; one entry per code (long values are split on encoding). */
  options: Map<number, Buffer>;
}

export const ZERO_IP = Buffer.alloc(4);
export const BROADCAST_IP = Buffer.from([255, 255, 255, 255]);

/** A BOOTREQUEST from `chaddr` with these options; every address field zero unless given. */
export function request(fields: Partial<DhcpMessage> & { xid: number; chaddr: Buffer; options: Map<number, Buffer> }): DhcpMessage {
  return {
    op: BOOTREQUEST,
    htype: 1,
    hlen: fields.chaddr.length,
    hops: 0,
    secs: 0,
    flags: 0,
    ciaddr: ZERO_IP,
    yiaddr: ZERO_IP,
    siaddr: ZERO_IP,
    giaddr: ZERO_IP,
    ...fields,
  };
}

/**
 * The message on the wire: the fixed header, the magic cookie, the options (53 first, then in
 * map order; values over 255 bytes split into several instances as RFC 3396 says), END, padding
 * up to BOOTP's 300 bytes.
 */
export function encodeMessage(msg: DhcpMessage): Buffer {
  const head = Buffer.alloc(OPTIONS_START);
  head[0] = msg.op;
  head[1] = msg.htype;
  head[2] = msg.hlen;
  head[3] = msg.hops;
  head.writeUInt32BE(msg.xid >>> 0, 4);
  head.writeUInt16BE(msg.secs, 8);
  head.writeUInt16BE(msg.flags, 10);
  msg.ciaddr.copy(head, 12);
  msg.yiaddr.copy(head, 16);
  msg.siaddr.copy(head, 20);
  msg.giaddr.copy(head, 24);
  msg.chaddr.copy(head, 28, 0, Math.min(msg.chaddr.length, 16));
  head.writeUInt32BE(MAGIC_COOKIE, FIXED_LENGTH);
  const parts: Buffer[] = [head];
  const type = msg.options.get(Option.MESSAGE_TYPE);
  const ordered = [...(type ? ([[Option.MESSAGE_TYPE, type]] as const) : []), ...[...msg.options].filter(([code]) => code !== Option.MESSAGE_TYPE)];
  for (const [code, value] of ordered) {
    if (code === Option.PAD || code === Option.END) continue;
    let offset = 0;
    do {
      const chunk = value.subarray(offset, offset + 255);
      parts.push(Buffer.from([code, chunk.length]), chunk);
      offset += 255;
    } while (offset < value.length);
  }
  parts.push(Buffer.from([Option.END]));
  const encoded = Buffer.concat(parts);
  return encoded.length >= MIN_LENGTH ? encoded : Buffer.concat([encoded, Buffer.alloc(MIN_LENGTH - encoded.length)]);
}

/**
 * A message from the wire, or undefined when it is not a DHCP message (too short, no magic
 * cookie, options running past the end). Repeated options are concatenated (RFC 3396); the sname
 * and file fields are read for options when option 52 says they carry some.
 */
export function decodeMessage(buf: Buffer): DhcpMessage | undefined {
  if (buf.length < OPTIONS_START || buf.readUInt32BE(FIXED_LENGTH) !== MAGIC_COOKIE) return undefined;
  const hlen = Math.min(buf[2], 16);
  const options = new Map<number, Buffer>();
  if (!readOptions(buf.subarray(OPTIONS_START), options)) return undefined;
  const overload = options.get(Option.OVERLOAD)?.[0] ?? 0;
  if (overload & 1 && !readOptions(buf.subarray(108, 236), options)) return undefined;
  if (overload & 2 && !readOptions(buf.subarray(44, 108), options)) return undefined;
  const ip = (at: number) => Buffer.from(buf.subarray(at, at + 4));
  return {
    op: buf[0],
    htype: buf[1],
    hlen,
    hops: buf[3],
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: ip(12),
    yiaddr: ip(16),
    siaddr: ip(20),
    giaddr: ip(24),
    chaddr: Buffer.from(buf.subarray(28, 28 + hlen)),
    options,
  };
}

function readOptions(area: Buffer, into: Map<number, Buffer>): boolean {
  let at = 0;
  while (at < area.length) {
    const code = area[at];
    if (code === Option.END) return true;
    if (code === Option.PAD) {
      at++;
      continue;
    }
    if (at + 1 >= area.length) return false;
    const length = area[at + 1];
    if (at + 2 + length > area.length) return false;
    const value = area.subarray(at + 2, at + 2 + length);
    const earlier = into.get(code);
    into.set(code, earlier ? Buffer.concat([earlier, value]) : Buffer.from(value));
    at += 2 + length;
  }
  // no END: tolerated, as most clients do, when the options fill the area exactly
  return true;
}

export const messageType = (msg: DhcpMessage): number | undefined => msg.options.get(Option.MESSAGE_TYPE)?.[0];

export const formatIPv4 = (b: Buffer): string => `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;

export function parseIPv4(text: string): Buffer | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => (p.length > 0 && p.length <= 3 && [...p].every((c) => c >= '0' && c <= '9') ? Number(p) : 256));
  return bytes.every((b) => b <= 255) ? Buffer.from(bytes) : undefined;
}

export const isZero = (b: Buffer): boolean => b.every((x) => x === 0);

/** A list of IPv4 addresses (options 3, 6): every whole 4 bytes. */
export function addressList(value: Buffer | undefined): Buffer[] {
  const out: Buffer[] = [];
  if (!value) return out;
  for (let at = 0; at + 4 <= value.length; at += 4) out.push(Buffer.from(value.subarray(at, at + 4)));
  return out;
}

/** A 32-bit number of seconds (options 51, 58, 59), or undefined when absent or not 4 bytes. */
export function seconds(value: Buffer | undefined): number | undefined {
  return value?.length === 4 ? value.readUInt32BE(0) : undefined;
}

/** The prefix length of a contiguous netmask, or undefined for a mask with holes or of the wrong size. */
export function maskLength(mask: Buffer | undefined): number | undefined {
  if (mask?.length !== 4) return undefined;
  const value = mask.readUInt32BE(0);
  let length = 0;
  while (length < 32 && (value >>> (31 - length)) & 1) length++;
  const rebuilt = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return rebuilt === value ? length : undefined;
}

export interface StaticRoute {
  dst: Buffer;
  length: number;
  router: Buffer;
}

/**
 * Option 121 (RFC 3442): (width, significant destination octets, router) triples; undefined for a
 * malformed option (a width over 32, a truncated entry), which the reference ignores as a whole.
 */
export function classlessRoutes(value: Buffer | undefined): StaticRoute[] | undefined {
  if (!value) return [];
  const routes: StaticRoute[] = [];
  let at = 0;
  while (at < value.length) {
    const width = value[at];
    if (width > 32) return undefined;
    const octets = Math.ceil(width / 8);
    if (at + 1 + octets + 4 > value.length) return undefined;
    const dst = Buffer.alloc(4);
    value.copy(dst, 0, at + 1, at + 1 + octets);
    maskTo(dst, width);
    routes.push({ dst, length: width, router: Buffer.from(value.subarray(at + 1 + octets, at + 5 + octets)) });
    at += 5 + octets;
  }
  return routes;
}

/** Clears the bits of `ip` past `length`, so a route's destination is its network's address (the kernel refuses others). */
function maskTo(ip: Buffer, length: number): void {
  const value = ip.readUInt32BE(0);
  ip.writeUInt32BE(length === 0 ? 0 : (value & (0xffffffff << (32 - length))) >>> 0, 0);
}

/** Option 33: (destination, router) pairs, the destination's length from its class, as Go's DefaultMask. */
export function staticRoutes(value: Buffer | undefined): StaticRoute[] {
  const routes: StaticRoute[] = [];
  if (!value) return routes;
  for (let at = 0; at + 8 <= value.length; at += 8) {
    const dst = Buffer.from(value.subarray(at, at + 4));
    const length = dst[0] < 0x80 ? 8 : dst[0] < 0xc0 ? 16 : 24;
    maskTo(dst, length);
    routes.push({ dst, length, router: Buffer.from(value.subarray(at + 4, at + 8)) });
  }
  return routes;
}

/**
 * Option 119 (RFC 3397): domain names in DNS wire format, compression pointers allowed into the
 * option's own data. Undefined when malformed.
 */
export function domainSearch(value: Buffer | undefined): string[] | undefined {
  if (!value) return [];
  const names: string[] = [];
  let at = 0;
  while (at < value.length) {
    const name = readName(value, at);
    if (!name) return undefined;
    names.push(name.text);
    at = name.next;
  }
  return names;
}

function readName(data: Buffer, start: number): { text: string; next: number } | undefined {
  const labels: string[] = [];
  let at = start;
  let next: number | undefined;
  for (let jumps = 0; jumps < 64; ) {
    if (at >= data.length) return undefined;
    const length = data[at];
    if (length === 0) {
      next ??= at + 1;
      return { text: labels.join('.'), next };
    }
    if ((length & 0xc0) === 0xc0) {
      if (at + 1 >= data.length) return undefined;
      next ??= at + 2;
      at = ((length & 0x3f) << 8) | data[at + 1];
      jumps++;
      continue;
    }
    if (length > 63 || at + 1 + length > data.length) return undefined;
    labels.push(data.toString('latin1', at + 1, at + 1 + length));
    at += 1 + length;
  }
  return undefined;
}

/** Printable text of a string option (15, 56): trailing NULs dropped. */
export const optionText = (value: Buffer | undefined): string | undefined => value?.toString('utf8').replace(/\0+$/, '');
