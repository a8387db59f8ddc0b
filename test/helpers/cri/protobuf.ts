/**
 * The protobuf wire format, as far as a test's CRI client needs it: varints and length-delimited
 * fields (strings, bytes, nested messages, maps as repeated entries) written from a list of
 * fields, and any message read back into its fields by number.
 */
export type ProtoValue = number | boolean | string | Buffer | ProtoField[] | undefined;
/** [field number, value]: a nested message is a list of fields; a repeated field is the field once per value. */
export type ProtoField = [number, ProtoValue];

function varint(value: number | bigint): Buffer {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  const bytes: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    bytes.push(byte);
  } while (v);
  return Buffer.from(bytes);
}

/** Fields in order; undefined, empty strings, 0 and false are left out, as proto3 does. */
export function encode(fields: ProtoField[]): Buffer {
  const parts: Buffer[] = [];
  for (const [field, value] of fields) {
    if (value === undefined || value === '' || value === 0 || value === false) continue;
    if (typeof value === 'number' || typeof value === 'boolean') {
      parts.push(varint((field << 3) | 0), varint(Number(value)));
      continue;
    }
    const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.isBuffer(value) ? value : encode(value);
    parts.push(varint((field << 3) | 2), varint(bytes.length), bytes);
  }
  return Buffer.concat(parts);
}

/** A map<string, string> field: one entry message (key 1, value 2) per pair. */
export const mapField = (field: number, map: Record<string, string>): ProtoField[] =>
  Object.entries(map).map(([k, v]) => [
    field,
    [
      [1, k],
      [2, v],
    ],
  ]);

/** A message's fields by number, each with every value it had (varints as numbers, the rest as bytes). */
export function decode(buffer: Buffer): Map<number, Array<number | Buffer>> {
  const fields = new Map<number, Array<number | Buffer>>();
  let at = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buffer[at++];
      if (byte === undefined) throw new RangeError('protobuf message ends inside a varint');
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
    }
  };
  while (at < buffer.length) {
    const key = Number(readVarint());
    const [field, wire] = [key >> 3, key & 7];
    let value: number | Buffer;
    if (wire === 0) value = Number(readVarint());
    else if (wire === 2) {
      const length = Number(readVarint());
      value = buffer.subarray(at, at + length);
      at += length;
    } else if (wire === 1 || wire === 5) {
      value = buffer.subarray(at, at + (wire === 1 ? 8 : 4));
      at += wire === 1 ? 8 : 4;
    } else throw new RangeError(`protobuf wire type ${wire} is not read here`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

/** The first value of a string field, or ''. */
export const stringOf = (fields: Map<number, Array<number | Buffer>>, field: number): string => (fields.get(field)?.[0] as Buffer | undefined)?.toString() ?? '';
/** The first value of a nested message field, decoded (empty when absent). */
export const messageOf = (fields: Map<number, Array<number | Buffer>>, field: number) => decode((fields.get(field)?.[0] as Buffer | undefined) ?? Buffer.alloc(0));
