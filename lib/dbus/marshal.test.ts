import { describe, expect, it } from 'vitest';
import { unixAddressOf } from './bus';
import { Reader, splitSignature, Writer, type DBusValue } from './marshal';
import { decodeMessage, encodeMethodCall, MessageType, messageLength } from './message';

const encode = (signature: string, values: DBusValue[]) => {
  const w = new Writer();
  w.write(signature, values);
  return w.toBuffer();
};

describe('D-Bus marshalling', () => {
  it('aligns each value to its size, from the start of the message', () => {
    // y, then a u32 at offset 4, then a string (length, bytes, NUL) at offset 8
    expect(encode('yus', [1, 0x01020304, 'foo']).toString('hex')).toBe('01000000' + '04030201' + '03000000' + '666f6f00');
    // an array's length excludes the padding to its first element (a struct: 8)
    expect(encode('a(yy)', [[[1, 2]]]).toString('hex')).toBe('02000000' + '00000000' + '0102');
    expect(encode('g', ['as']).toString('hex')).toBe('02' + '6173' + '00');
  });

  it('reads back what it writes, for nested arrays, structs, dicts and variants', () => {
    const signature = 'a{sv}(yb)asxt';
    const values: DBusValue[] = [
      [
        ['zone', { signature: 's', value: 'trusted' }],
        ['count', { signature: 'u', value: 7 }],
      ],
      [255, true],
      ['10.88.0.2/32', 'fd00::2/128'],
      -5n,
      2n ** 63n,
    ];
    expect(new Reader(encode(signature, values)).read(signature)).toEqual(values);
  });

  it('splits a signature into complete types and refuses a broken one', () => {
    expect(splitSignature('sa{sv}(ia(yy))v')).toEqual(['s', 'a{sv}', '(ia(yy))', 'v']);
    expect(() => splitSignature('a')).toThrow(/ends inside a type/);
    expect(() => splitSignature('(')).toThrow(/ends inside a type/);
    expect(() => splitSignature('z')).toThrow(/unknown type code "z"/);
    expect(() => encode('ss', ['one'])).toThrow(/1 values for 2 types/);
  });
});

describe('D-Bus messages', () => {
  it("a method call's header carries path, interface, member, destination and signature; its length is known from 16 bytes", () => {
    const call = encodeMethodCall(7, { destination: 'org.example', path: '/o', interface: 'org.example.I', member: 'M', signature: 'ss', body: ['a', 'b'] });
    expect(call.subarray(0, 4)).toEqual(Buffer.from([0x6c, MessageType.MethodCall, 0, 1]));
    expect(call.readUInt32LE(8)).toBe(7);
    expect(messageLength(call.subarray(0, 15))).toBeUndefined();
    expect(messageLength(call.subarray(0, 16))).toBe(call.length);
    const decoded = decodeMessage(call);
    expect(decoded).toMatchObject({ type: MessageType.MethodCall, serial: 7, member: 'M', signature: 'ss', body: ['a', 'b'] });
  });

  it('refuses a big-endian message instead of misreading it', () => {
    const call = encodeMethodCall(1, { destination: 'd.e', path: '/', interface: 'd.e', member: 'M' });
    call[0] = 'B'.charCodeAt(0);
    expect(() => messageLength(call)).toThrow(/only little-endian/);
  });
});

describe('bus addresses', () => {
  it('takes the first unix transport of the list, unescaped', () => {
    expect(unixAddressOf('unix:path=/run/dbus/system_bus_socket')).toEqual({ path: '/run/dbus/system_bus_socket' });
    expect(unixAddressOf('tcp:host=x,port=1;unix:abstract=/tmp/dbus-x,guid=ab')).toEqual({ abstract: '/tmp/dbus-x' });
    expect(unixAddressOf('unix:path=/tmp/a%20b')).toEqual({ path: '/tmp/a b' });
    expect(unixAddressOf('tcp:host=x')).toBeUndefined();
    // an escape that is no UTF-8 names nothing, instead of throwing
    expect(unixAddressOf('unix:path=/tmp/%ff')).toBeUndefined();
  });
});
