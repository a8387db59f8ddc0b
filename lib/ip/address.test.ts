import { isIPv4, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatIP, parseIP } from './address';
import { seededRandom } from '../../test/helpers/seeded-random';
import { hasHostBits, lastAddress, networkAddress, parsePrefix, prefixContains, prefixesOverlap } from './prefix';

const roundTrip = (text: string) => formatIP(parseIP(text)!);

describe('IP parsing and formatting', () => {
  it('round-trips IPv4', () => {
    expect(roundTrip('10.1.2.3')).toBe('10.1.2.3');
    expect(parseIP('10.1.2.3')!.value).toBe(0x0a010203n);
  });

  it('formats IPv6 the way Go does (RFC 5952)', () => {
    expect(roundTrip('2001:DB8:0:0:0:0:0:5')).toBe('2001:db8::5');
    expect(roundTrip('2001:db8:0:1:0:0:0:0')).toBe('2001:db8:0:1::');
    expect(roundTrip('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(roundTrip('::')).toBe('::');
    expect(roundTrip('::1')).toBe('::1');
    expect(roundTrip('1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3');
    expect(roundTrip('fd00::0a00:1')).toBe('fd00::a00:1');
  });

  it('treats IPv4-mapped IPv6 as IPv4', () => {
    expect(parseIP('::ffff:10.0.0.1')).toEqual({ family: 4, value: 0x0a000001n });
  });

  it('rejects garbage', () => {
    for (const bad of ['', '10.0.0', '10.0.0.256', '1.2.3.4/24', 'fe80::1%eth0', 'x::1', '1::2::3']) {
      expect(parseIP(bad), bad).toBeUndefined();
    }
  });
});

describe('the hand-written parser accepts exactly what node:net accepts', () => {
  const accepted = (text: string) => isIPv4(text) || (isIPv6(text) && !text.includes('%'));
  const edgeCases = [
    '0.0.0.0',
    '255.255.255.255',
    '01.2.3.4',
    '1.2.3.04',
    '1.2.3',
    '1.2.3.4.5',
    '1..3.4',
    '256.1.1.1',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '+1.2.3.4',
    '1.2.3.-4',
    '::',
    ':::',
    '::1',
    '1::',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8::',
    '1::2:3::4',
    ':1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:',
    '12345::',
    'g::1',
    'ABCD:ef01::',
    '::ffff:1.2.3.4',
    '::1.2.3.4',
    '1:2:3:4:5:6:1.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::ffff:1.2.3',
    '::ffff:01.2.3.4',
    '1.2.3.4::',
    '::1.2.3.4:5',
    'fe80::1%eth0',
    '',
  ];
  it('on edge cases', () => {
    for (const text of edgeCases) expect(parseIP(text) !== undefined, JSON.stringify(text)).toBe(accepted(text));
  });
  it('on 20,000 random strings of address characters', () => {
    const random = seededRandom(7);
    const alphabet = '0123456789abcdefABCDEF:.:.';
    for (let i = 0; i < 20000; i++) {
      const length = 1 + Math.floor(random() * 20);
      const text = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      expect(parseIP(text) !== undefined, JSON.stringify(text)).toBe(accepted(text));
    }
  });
  it('on 20,000 random near-addresses (groups, gaps and dotted tails)', () => {
    const random = seededRandom(11);
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
    const hex = () => Array.from({ length: Math.floor(random() * 6) }, () => pick([...'0123456789abcdefF'])).join('');
    const octet = () => pick(['0', '1', '25', '255', '256', '01', '199', '']);
    for (let i = 0; i < 20000; i++) {
      const groups = Array.from({ length: 1 + Math.floor(random() * 9) }, hex);
      if (random() < 0.5) groups.splice(Math.floor(random() * groups.length), 0, '');
      if (random() < 0.3) groups.push(Array.from({ length: 3 + Math.floor(random() * 3) }, octet).join('.'));
      const text = groups.join(':');
      expect(parseIP(text) !== undefined, JSON.stringify(text)).toBe(accepted(text));
    }
  });
});

describe('prefixes', () => {
  it('parses and computes bounds', () => {
    const p = parsePrefix('10.1.0.0/16')!;
    expect(formatIP(networkAddress(p))).toBe('10.1.0.0');
    expect(formatIP(lastAddress(p))).toBe('10.1.255.255');
    expect(hasHostBits(p)).toBe(false);
    expect(hasHostBits(parsePrefix('10.1.0.1/16')!)).toBe(true);
    expect(formatIP(lastAddress(parsePrefix('2001:db8::/64')!))).toBe('2001:db8::ffff:ffff:ffff:ffff');
  });

  it('rejects bad lengths and forms', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0', '10.0.0.0/-1', '::/129', '10.0.0.0/1a']) {
      expect(parsePrefix(bad), bad).toBeUndefined();
    }
  });

  it('answers containment and overlap', () => {
    const p = parsePrefix('10.1.0.0/16')!;
    expect(prefixContains(p, parseIP('10.1.200.3')!)).toBe(true);
    expect(prefixContains(p, parseIP('10.2.0.1')!)).toBe(false);
    expect(prefixContains(p, parseIP('::1')!)).toBe(false);
    expect(prefixesOverlap(p, parsePrefix('10.1.5.0/24')!)).toBe(true);
    expect(prefixesOverlap(p, parsePrefix('10.2.0.0/16')!)).toBe(false);
  });
});
