import { Reader, Writer, type DBusValue, type Variant } from './marshal';

export const MessageType = { MethodCall: 1, MethodReturn: 2, Error: 3, Signal: 4 } as const;

/** A method call to a service: what a client sends. */
export interface MethodCall {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: DBusValue[];
}

/** A message as received: the header fields a client reads, and the body. */
export interface Message {
  type: number;
  serial: number;
  replySerial?: number;
  errorName?: string;
  member?: string;
  signature: string;
  body: DBusValue[];
}

const Field = { Path: 1, Interface: 2, Member: 3, ErrorName: 4, ReplySerial: 5, Destination: 6, Signature: 8 } as const;
const FIXED_HEADER = 16;
const PROTOCOL_VERSION = 1;
const NO_FLAGS = 0;

export function encodeMethodCall(serial: number, call: MethodCall): Buffer {
  const body = new Writer();
  if (call.signature) body.write(call.signature, call.body ?? []);
  const fields: Array<[number, Variant]> = [
    [Field.Path, { signature: 'o', value: call.path }],
    [Field.Interface, { signature: 's', value: call.interface }],
    [Field.Member, { signature: 's', value: call.member }],
    [Field.Destination, { signature: 's', value: call.destination }],
  ];
  if (call.signature) fields.push([Field.Signature, { signature: 'g', value: call.signature }]);
  const message = new Writer();
  message.write('yyyyuua(yv)', ['l'.charCodeAt(0), MessageType.MethodCall, NO_FLAGS, PROTOCOL_VERSION, body.size, serial, fields]);
  message.align(8);
  return Buffer.concat([message.toBuffer(), body.toBuffer()]);
}

/** The whole message's length, once its first 16 bytes are in `buffer`; undefined before. */
export function messageLength(buffer: Buffer): number | undefined {
  if (buffer.length < FIXED_HEADER) return undefined;
  assertLittleEndian(buffer);
  const headerEnd = FIXED_HEADER + buffer.readUInt32LE(12);
  return headerEnd + ((8 - (headerEnd % 8)) % 8) + buffer.readUInt32LE(4);
}

export function decodeMessage(buffer: Buffer): Message {
  assertLittleEndian(buffer);
  const reader = new Reader(buffer);
  const [, type, , , , serial, fields] = reader.read('yyyyuua(yv)') as [number, number, number, number, number, number, Array<[number, Variant]>];
  reader.align(8);
  const field = (code: number) => fields.find(([c]) => c === code)?.[1].value;
  const signature = (field(Field.Signature) as string | undefined) ?? '';
  return {
    type,
    serial,
    replySerial: field(Field.ReplySerial) as number | undefined,
    errorName: field(Field.ErrorName) as string | undefined,
    member: field(Field.Member) as string | undefined,
    signature,
    body: new Reader(buffer.subarray(reader.offset)).read(signature),
  };
}

function assertLittleEndian(buffer: Buffer): void {
  // a bus answers in the byte order of the message it forwards; a service may send 'B'
  if (buffer[0] !== 'l'.charCodeAt(0)) throw new Error(`D-Bus message in byte order ${JSON.stringify(String.fromCharCode(buffer[0]))}: only little-endian ("l") is read`);
}
