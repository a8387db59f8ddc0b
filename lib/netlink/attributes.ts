/**
 * Netlink attributes (struct nlattr): a 4-byte header (length, type), the payload, padding to 4
 * bytes. The length counts header and payload, not the padding, and a nest's payload is its
 * attributes with their padding, as iproute2 and vishvananda/netlink write them. Numbers are in
 * host order (little-endian on every platform the suite runs on).
 */

/** The type bit that marks an attribute holding attributes; the kernel insists on it for a few (IFLA_PROTINFO). */
export const NLA_F_NESTED = 0x8000;
const NLA_TYPE_MASK = 0x3fff;
const HEADER_BYTES = 4;

const paddingOf = (length: number): number => (4 - (length % 4)) % 4;

/** One attribute of `type` whose payload is `payload` concatenated (values, structs or attributes). */
export function attr(type: number, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const out = Buffer.alloc(HEADER_BYTES + body.length + paddingOf(body.length));
  out.writeUInt16LE(HEADER_BYTES + body.length, 0);
  out.writeUInt16LE(type, 2);
  body.copy(out, HEADER_BYTES);
  return out;
}

/** An attribute holding `attributes`, flagged NLA_F_NESTED (a nest written without the flag is `attr`). */
export const nested = (type: number, ...attributes: Buffer[]): Buffer => attr(type | NLA_F_NESTED, ...attributes);

export const u8 = (value: number): Buffer => Buffer.from([value]);

export function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value, 0);
  return b;
}

export function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0, 0);
  return b;
}

export function u64(value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value), 0);
  return b;
}

/** A string with its terminating NUL (IFLA_IFNAME, TCA_ACT_KIND). */
export const string = (value: string): Buffer => Buffer.from(`${value}\0`);

export interface Attribute {
  /** The type without NLA_F_NESTED and NLA_F_NET_BYTEORDER. */
  type: number;
  data: Buffer;
}

/** The attributes of a payload, in order; a truncated or malformed one ends the list. */
export function parseAttributes(payload: Buffer | undefined): Attribute[] {
  const out: Attribute[] = [];
  let at = 0;
  while (payload && at + HEADER_BYTES <= payload.length) {
    const length = payload.readUInt16LE(at);
    if (length < HEADER_BYTES || at + length > payload.length) break;
    out.push({ type: payload.readUInt16LE(at + 2) & NLA_TYPE_MASK, data: payload.subarray(at + HEADER_BYTES, at + length) });
    at += length + paddingOf(length);
  }
  return out;
}

/** The attributes of a payload by type; of a repeated type, the last. */
export const attributeMap = (payload: Buffer | undefined): Map<number, Buffer> => new Map(parseAttributes(payload).map((a) => [a.type, a.data]));

/** A u8 attribute's value; undefined when it is absent or empty. */
export const readU8 = (data: Buffer | undefined): number | undefined => (data?.length ? data.readUInt8(0) : undefined);

/** A u32 attribute's value; undefined when it is absent or shorter. */
export const readU32 = (data: Buffer | undefined): number | undefined => (data && data.length >= 4 ? data.readUInt32LE(0) : undefined);
