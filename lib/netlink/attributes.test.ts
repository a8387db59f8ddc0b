import { describe, expect, it } from 'vitest';
import { attr, attributeMap, NLA_F_NESTED, nested, parseAttributes, readU8, readU32, string, u8, u16, u32, u64 } from './attributes';

describe('netlink attributes', () => {
  it('writes the header (length without padding, type) and pads the payload to 4 bytes', () => {
    expect(attr(3, string('d0')).toString('hex')).toBe('07000300' + '64300000');
    expect(attr(7, u8(1)).toString('hex')).toBe('05000700' + '01000000');
    expect(attr(1, u16(0x1234)).toString('hex')).toBe('06000100' + '34120000');
    expect(attr(4, u32(1500)).toString('hex')).toBe('08000400' + 'dc050000');
    expect(attr(6, u64(2 ** 40 + 1)).toString('hex')).toBe('0c000600' + '0100000000010000');
    expect(attr(9).toString('hex')).toBe('04000900');
  });

  it('concatenates a payload given in parts, and writes u32 values of 2^31 and more', () => {
    expect(attr(2, u32(0xffffffff), u8(1)).toString('hex')).toBe('09000200' + 'ffffffff' + '01000000');
    expect(u32(-1).toString('hex')).toBe('ffffffff');
  });

  it('nests attributes with their padding counted in the outer length; `nested` sets NLA_F_NESTED', () => {
    const inner = attr(4, u8(0));
    expect(attr(12, inner).toString('hex')).toBe('0c000c00' + '0500040000000000');
    expect(nested(12, inner).toString('hex')).toBe('0c000c80' + '0500040000000000');
    expect(nested(12, inner).readUInt16LE(2) & NLA_F_NESTED).toBe(NLA_F_NESTED);
  });

  it('parses back what it writes, in order, nests included, flags stripped from the type', () => {
    const payload = Buffer.concat([attr(3, string('eth0')), nested(26, attr(2, u16(100)), attr(2, u16(200))), attr(4, u32(9000)), attr(2, u8(7))]);
    const parsed = parseAttributes(payload);
    expect(parsed.map((a) => a.type)).toEqual([3, 26, 4, 2]);
    expect(parsed[0].data.toString()).toBe('eth0\0');
    expect(parseAttributes(parsed[1].data).map((a) => a.data.readUInt16LE(0))).toEqual([100, 200]);
    expect(readU32(parsed[2].data)).toBe(9000);
    expect(readU8(parsed[3].data)).toBe(7);
    const byType = attributeMap(parsed[1].data);
    expect([...byType.keys()]).toEqual([2]);
    expect(byType.get(2)?.readUInt16LE(0)).toBe(200); // of a repeated type, the last
  });

  it('stops at a truncated or malformed attribute and takes an absent payload as empty', () => {
    const whole = Buffer.concat([attr(1, u32(1)), attr(2, u32(2))]);
    expect(parseAttributes(whole.subarray(0, whole.length - 1)).map((a) => a.type)).toEqual([1]);
    expect(parseAttributes(Buffer.from('02000100' + '08000200' + '02000000', 'hex'))).toEqual([]);
    expect(parseAttributes(undefined)).toEqual([]);
    expect(attributeMap(undefined).size).toBe(0);
  });

  it('reads u8 and u32 values, undefined when absent or too short', () => {
    expect(readU8(undefined)).toBeUndefined();
    expect(readU8(Buffer.alloc(0))).toBeUndefined();
    expect(readU32(Buffer.from([1, 0, 0]))).toBeUndefined();
    expect(readU32(u32(0x80000000))).toBe(0x80000000);
  });
});
