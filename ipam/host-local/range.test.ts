import { describe, expect, it } from 'vitest';
import { formatIP, parseIP } from '../../lib/ip';
import { canonicalizeRange, canonicalizeRangeSet, candidates, rangeSetCapacity } from './range';

const ip = (s: string) => parseIP(s)!;
const list = (gen: Iterable<{ ip: { family: 4 | 6; value: bigint } }>) => [...gen].map((c) => formatIP(c.ip));

describe('canonicalizeRange', () => {
  it('fills the reference defaults: start .1, end broadcast-1, gateway .1', () => {
    const r = canonicalizeRange({ subnet: '10.1.2.0/24' }, 'r');
    expect([r.start, r.end, r.gateway].map(formatIP)).toEqual(['10.1.2.1', '10.1.2.254', '10.1.2.1']);
  });

  it('uses the last address as IPv6 end (no broadcast)', () => {
    const r = canonicalizeRange({ subnet: 'fd00::/120' }, 'r');
    expect(formatIP(r.end)).toBe('fd00::ff');
  });

  it('names the field in every error', () => {
    const cases: Array<[object, string]> = [
      [{ subnet: '10.1.2.0/33' }, 'invalid field "r.subnet": "10.1.2.0/33" is not a CIDR'],
      [{ subnet: 'banana' }, 'invalid field "r.subnet"'],
      [{ subnet: '10.1.2.5/24' }, 'has host bits set; the network address is 10.1.2.0/24'],
      [{ subnet: '10.1.2.0/31' }, 'too small'],
      [{ subnet: '10.1.2.0/24', rangeStart: '10.1.3.1' }, 'invalid field "r.rangeStart": 10.1.3.1 is not in subnet'],
      [{ subnet: '10.1.2.0/24', rangeEnd: '10.1.2.255' }, 'broadcast address'],
      [{ subnet: '10.1.2.0/24', rangeStart: '10.1.2.0' }, 'network address'],
      [{ subnet: '10.1.2.0/24', rangeStart: '10.1.2.9', rangeEnd: '10.1.2.3' }, 'is after rangeEnd'],
      [{ subnet: '10.1.2.0/24', gateway: 'fd00::1' }, 'invalid field "r.gateway"'],
      [{ subnet: '10.1.2.0/24', rangeStart: 'x' }, 'invalid field "r.rangeStart": "x" is not an IP address'],
    ];
    for (const [input, message] of cases) {
      expect(() => canonicalizeRange(input as never, 'r'), JSON.stringify(input)).toThrow(message);
    }
  });
});

describe('canonicalizeRangeSet', () => {
  it('rejects overlapping ranges and mixed families', () => {
    expect(() => canonicalizeRangeSet([{ subnet: '10.0.0.0/24' }, { subnet: '10.0.0.0/25' }], 's')).toThrow('s[1]": overlaps s[0]');
    expect(() => canonicalizeRangeSet([{ subnet: '10.0.0.0/24' }, { subnet: 'fd00::/64' }], 's')).toThrow('mixes IPv4 and IPv6');
  });

  it('allows disjoint ranges of one subnet', () => {
    const set = canonicalizeRangeSet(
      [
        { subnet: '10.0.0.0/24', rangeStart: '10.0.0.10', rangeEnd: '10.0.0.19' },
        { subnet: '10.0.0.0/24', rangeStart: '10.0.0.20', rangeEnd: '10.0.0.29' },
      ],
      's',
    );
    expect(set).toHaveLength(2);
  });
});

describe('candidates (round-robin)', () => {
  const set = canonicalizeRangeSet([{ subnet: '10.0.0.0/29' }], 's'); // .1 gateway, .2-.6 usable

  it('starts at rangeStart, skips the gateway, visits each address once', () => {
    expect(list(candidates(set))).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(rangeSetCapacity(set)).toBe(5n);
  });

  it('continues after the last reserved address and wraps', () => {
    expect(list(candidates(set, ip('10.0.0.4')))).toEqual(['10.0.0.5', '10.0.0.6', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
  });

  it('ignores a last reserved address outside the set', () => {
    expect(list(candidates(set, ip('192.168.0.1')))[0]).toBe('10.0.0.2');
  });

  it('walks across the ranges of a set', () => {
    const two = canonicalizeRangeSet(
      [
        { subnet: '10.0.0.0/29', rangeStart: '10.0.0.5' },
        { subnet: '10.9.0.0/29', rangeEnd: '10.9.0.3' },
      ],
      's',
    );
    expect(list(candidates(two, ip('10.0.0.6')))).toEqual(['10.9.0.2', '10.9.0.3', '10.0.0.5', '10.0.0.6']);
  });
});
