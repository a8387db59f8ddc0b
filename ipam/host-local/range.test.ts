import { describe, expect, it } from 'vitest';
import { formatIP, parseIP } from '../../lib/ip';
import { canonicalizeRange, canonicalizeRangeSet, candidates, checkRangeSetsDisjoint, rangeSetCapacity } from './range';

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

  it('names both ranges of an overlap found after sorting ranges given out of order', () => {
    // sorted by start: s[2] (10.0.0.1-10.0.15.254), s[1] (10.0.1.1-…), s[0] (10.0.9.1-…)
    const inputs = [{ subnet: '10.0.9.0/24' }, { subnet: '10.0.1.0/24' }, { subnet: '10.0.0.0/20' }, { subnet: '10.9.0.0/24' }];
    expect(() => canonicalizeRangeSet(inputs, 's')).toThrow('invalid field "s[2]": overlaps s[1] (10.0.1.1-10.0.1.254)');
    // ranges of one subnet that share only their last/first address
    const touching = [
      { subnet: '10.0.0.0/24', rangeStart: '10.0.0.50', rangeEnd: '10.0.0.60' },
      { subnet: '10.0.0.0/24', rangeStart: '10.0.0.10', rangeEnd: '10.0.0.50' },
    ];
    expect(() => canonicalizeRangeSet(touching, 's')).toThrow('invalid field "s[1]": overlaps s[0] (10.0.0.50-10.0.0.60)');
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

describe('overlap checks scale (one sort, not every pair)', () => {
  // 20,000 /24s (a large cluster's config), given in reverse order: pairwise checks would take minutes
  const subnets = Array.from({ length: 20_000 }, (_, i) => ({ subnet: `10.${i >> 8}.${i & 255}.0/24` })).reverse();

  it('20,000 disjoint ranges in one set, and an overlap among them, in well under 3 s', () => {
    const start = performance.now();
    expect(canonicalizeRangeSet(subnets, 's')).toHaveLength(20_000);
    const overlapping = [...subnets, { subnet: '10.40.0.0/16' }];
    expect(() => canonicalizeRangeSet(overlapping, 's')).toThrow(/invalid field "s\[20000\]": overlaps s\[\d+\] \(10\.40\.0\.1-10\.40\.0\.254\)/);
    expect(performance.now() - start).toBeLessThan(3_000);
  });

  it('20,000 single-range sets are checked for overlaps across sets in well under 3 s', () => {
    const sets = subnets.map((input, i) => canonicalizeRangeSet([input], `r[${i}]`));
    const fields = sets.map((_, i) => `r[${i}]`);
    const start = performance.now();
    checkRangeSetsDisjoint(sets, fields);
    const clash = canonicalizeRangeSet([{ subnet: '10.20.0.0/22' }], 'x');
    expect(() => checkRangeSetsDisjoint([...sets, clash], [...fields, 'x'])).toThrow(/invalid field "x": range set overlaps r\[\d+\]$/);
    expect(performance.now() - start).toBeLessThan(3_000);
  });

  it('ranges of different families never overlap', () => {
    const v4 = canonicalizeRangeSet([{ subnet: '0.0.0.0/8', rangeStart: '0.0.0.1' }], 'a');
    const v6 = canonicalizeRangeSet([{ subnet: '::/120', rangeStart: '::1' }], 'b');
    expect(() => checkRangeSetsDisjoint([v6, v4], ['b', 'a'])).not.toThrow();
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
