/**
 * The D-Bus wire format (little-endian), for the types a client of a system service needs:
 * every basic type, arrays, structs, dict entries and variants. Structs and dict entries are
 * arrays of their members; 64-bit integers are bigints.
 */
export type DBusValue = string | number | bigint | boolean | Variant | DBusValue[];
export interface Variant {
  signature: string;
  value: DBusValue;
}

const FIXED: Record<string, number> = { y: 1, b: 4, n: 2, q: 2, i: 4, u: 4, x: 8, t: 8, d: 8, h: 4, s: 4, o: 4, g: 1, v: 1 };

export class SignatureError extends Error {
  constructor(signature: string, why: string) {
    super(`D-Bus signature ${JSON.stringify(signature)}: ${why}`);
    this.name = 'SignatureError';
  }
}

/** The complete types of a signature, in order ("sa{sv}i" gives "s", "a{sv}", "i"). */
export function splitSignature(signature: string): string[] {
  const types: string[] = [];
  for (let at = 0; at < signature.length; ) {
    const end = completeTypeEnd(signature, at);
    types.push(signature.slice(at, end));
    at = end;
  }
  return types;
}

function completeTypeEnd(signature: string, at: number): number {
  const code = signature[at];
  if (code === undefined) throw new SignatureError(signature, 'ends inside a type');
  if (code === 'a') return completeTypeEnd(signature, at + 1);
  if (code === '(' || code === '{') {
    const close = code === '(' ? ')' : '}';
    let end = at + 1;
    while (signature[end] !== close) end = completeTypeEnd(signature, end);
    if (end === at + 1) throw new SignatureError(signature, 'empty struct');
    return end + 1;
  }
  if (!(code in FIXED)) throw new SignatureError(signature, `unknown type code ${JSON.stringify(code)}`);
  return at + 1;
}

interface FixedCodec {
  size: number;
  write(b: Buffer, value: DBusValue): void;
  read(b: Buffer, at: number): DBusValue;
}

const FIXED_CODECS: Record<string, FixedCodec> = {
  y: { size: 1, write: (b, v) => b.writeUInt8(Number(v)), read: (b, at) => b.readUInt8(at) },
  b: { size: 4, write: (b, v) => b.writeUInt32LE(v ? 1 : 0), read: (b, at) => b.readUInt32LE(at) !== 0 },
  n: { size: 2, write: (b, v) => b.writeInt16LE(Number(v)), read: (b, at) => b.readInt16LE(at) },
  q: { size: 2, write: (b, v) => b.writeUInt16LE(Number(v)), read: (b, at) => b.readUInt16LE(at) },
  i: { size: 4, write: (b, v) => b.writeInt32LE(Number(v)), read: (b, at) => b.readInt32LE(at) },
  u: { size: 4, write: (b, v) => b.writeUInt32LE(Number(v)), read: (b, at) => b.readUInt32LE(at) },
  h: { size: 4, write: (b, v) => b.writeUInt32LE(Number(v)), read: (b, at) => b.readUInt32LE(at) },
  x: { size: 8, write: (b, v) => b.writeBigInt64LE(BigInt(v as bigint)), read: (b, at) => b.readBigInt64LE(at) },
  t: { size: 8, write: (b, v) => b.writeBigUInt64LE(BigInt(v as bigint)), read: (b, at) => b.readBigUInt64LE(at) },
  d: { size: 8, write: (b, v) => b.writeDoubleLE(Number(v)), read: (b, at) => b.readDoubleLE(at) },
};

const alignmentOf = (type: string): number => (type[0] === '(' || type[0] === '{' ? 8 : type[0] === 'a' ? 4 : FIXED[type[0]]);
const membersOf = (type: string): string[] => splitSignature(type.slice(1, -1));

export class Writer {
  private chunks: Buffer[] = [];
  private length = 0;

  get size(): number {
    return this.length;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }

  align(to: number): void {
    const pad = (to - (this.length % to)) % to;
    if (pad) this.push(Buffer.alloc(pad));
  }

  /** Values in the order of the signature's complete types. */
  write(signature: string, values: DBusValue[]): void {
    const types = splitSignature(signature);
    if (types.length !== values.length) throw new SignatureError(signature, `${values.length} values for ${types.length} types`);
    for (const [i, type] of types.entries()) this.value(type, values[i]);
  }

  private push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  private value(type: string, value: DBusValue): void {
    const fixed = FIXED_CODECS[type[0]];
    if (fixed) {
      this.align(fixed.size);
      const b = Buffer.alloc(fixed.size);
      fixed.write(b, value);
      this.push(b);
    } else if (type[0] === 's' || type[0] === 'o') {
      const text = Buffer.from(String(value));
      this.value('u', text.length);
      this.push(Buffer.concat([text, Buffer.from([0])]));
    } else if (type[0] === 'g') {
      const text = Buffer.from(String(value));
      this.push(Buffer.concat([Buffer.from([text.length]), text, Buffer.from([0])]));
    } else if (type[0] === 'v') {
      const variant = value as Variant;
      this.value('g', variant.signature);
      this.value(variant.signature, variant.value);
    } else if (type[0] === 'a') {
      const element = type.slice(1);
      this.align(4);
      const lengthAt = this.chunks.length;
      this.push(Buffer.alloc(4));
      this.align(alignmentOf(element));
      const start = this.length;
      for (const item of value as DBusValue[]) this.value(element, item);
      this.chunks[lengthAt].writeUInt32LE(this.length - start);
    } else {
      this.align(8);
      const items = value as DBusValue[];
      for (const [i, member] of membersOf(type).entries()) this.value(member, items[i]);
    }
  }
}

export class Reader {
  constructor(
    private readonly buffer: Buffer,
    private at = 0,
  ) {}

  get offset(): number {
    return this.at;
  }

  align(to: number): void {
    this.at += (to - (this.at % to)) % to;
  }

  read(signature: string): DBusValue[] {
    return splitSignature(signature).map((type) => this.value(type));
  }

  private take(size: number): number {
    this.align(size);
    const at = this.at;
    if (at + size > this.buffer.length) throw new RangeError(`D-Bus message ends inside a value (offset ${at})`);
    this.at += size;
    return at;
  }

  private text(length: number): string {
    const at = this.at;
    if (at + length + 1 > this.buffer.length) throw new RangeError(`D-Bus message ends inside a string (offset ${at})`);
    this.at += length + 1;
    return this.buffer.toString('utf8', at, at + length);
  }

  private value(type: string): DBusValue {
    const fixed = FIXED_CODECS[type[0]];
    if (fixed) return fixed.read(this.buffer, this.take(fixed.size));
    switch (type[0]) {
      case 's':
      case 'o':
        return this.text(this.value('u') as number);
      case 'g':
        return this.text(this.value('y') as number);
      case 'v': {
        const signature = this.value('g') as string;
        return { signature, value: this.value(signature) };
      }
      case 'a': {
        const element = type.slice(1);
        const length = this.value('u') as number;
        this.align(alignmentOf(element));
        const end = this.at + length;
        const items: DBusValue[] = [];
        while (this.at < end) items.push(this.value(element));
        return items;
      }
      default:
        this.align(8);
        return membersOf(type).map((member) => this.value(member));
    }
  }
}
