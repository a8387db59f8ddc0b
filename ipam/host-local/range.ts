import { invalidField as invalid } from '../../lib/errors';
import { addToIP, bitsOf, compareIP, formatIP, hasHostBits, ipEquals, lastAddress, networkAddress, parseIP, parsePrefix, prefixContains, type IP, type Prefix } from '../../lib/ip';

/** One pool of addresses: a subnet and the inclusive start..end inside it that may be handed out. */
export interface Range {
  subnet: Prefix;
  start: IP;
  end: IP;
  gateway: IP;
}

/** Disjoint ranges of one family; one IP is allocated per range set. */
export type RangeSet = Range[];

export interface RangeInput {
  subnet: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
}

/** Validates one range and fills its defaults the way the reference host-local does. */
export function canonicalizeRange(input: RangeInput, field: string): Range {
  const subnet = parsePrefix(input.subnet);
  if (!subnet) throw invalid(`${field}.subnet`, `${JSON.stringify(input.subnet)} is not a CIDR like "10.1.0.0/16"`);
  if (hasHostBits(subnet)) {
    throw invalid(`${field}.subnet`, `${JSON.stringify(input.subnet)} has host bits set; the network address is ${formatIP(networkAddress(subnet))}/${subnet.length}`);
  }
  const family = subnet.ip.family;
  if (subnet.length > bitsOf(family) - 2) {
    throw invalid(`${field}.subnet`, `network ${JSON.stringify(input.subnet)} is too small to allocate from`);
  }
  const network = networkAddress(subnet);
  const broadcast = lastAddress(subnet);
  const inSubnet = (key: 'rangeStart' | 'rangeEnd' | 'gateway'): IP | undefined => {
    const text = input[key];
    if (text === undefined || text === '') return undefined;
    const ip = parseIP(text);
    if (!ip) throw invalid(`${field}.${key}`, `${JSON.stringify(text)} is not an IP address`);
    if (ip.family !== family) throw invalid(`${field}.${key}`, `${text} is not of the same family as subnet ${input.subnet}`);
    if (key !== 'gateway' && !prefixContains(subnet, ip)) throw invalid(`${field}.${key}`, `${text} is not in subnet ${input.subnet}`);
    return ip;
  };
  const start = inSubnet('rangeStart') ?? addToIP(network, 1n);
  const end = inSubnet('rangeEnd') ?? (family === 4 ? addToIP(broadcast, -1n) : broadcast);
  const gateway = inSubnet('gateway') ?? addToIP(network, 1n);
  if (ipEquals(start, network)) throw invalid(`${field}.rangeStart`, `${formatIP(start)} is the network address of ${input.subnet}`);
  if (family === 4 && ipEquals(end, broadcast)) throw invalid(`${field}.rangeEnd`, `${formatIP(end)} is the broadcast address of ${input.subnet}`);
  if (compareIP(start, end) > 0) throw invalid(`${field}.rangeStart`, `${formatIP(start)} is after rangeEnd ${formatIP(end)}`);
  return { subnet, start, end, gateway };
}

export function canonicalizeRangeSet(inputs: RangeInput[], field: string): RangeSet {
  if (inputs.length === 0) throw invalid(field, 'a range set needs at least one range');
  const set = inputs.map((input, i) => canonicalizeRange(input, `${field}[${i}]`));
  set.forEach((range, i) => {
    if (range.subnet.ip.family !== set[0].subnet.ip.family) throw invalid(`${field}[${i}]`, 'mixes IPv4 and IPv6 in one range set');
  });
  const overlap = findOverlap(set.map((range, index) => ({ range, index })));
  if (overlap) {
    const [first, second] = overlap;
    throw invalid(`${field}[${second.index}]`, `overlaps ${field}[${first.index}] (${formatRange(first.range)})`);
  }
  return set;
}

/** No address in two range sets; the error names the later set's field and the earlier one. */
export function checkRangeSetsDisjoint(sets: RangeSet[], fields: string[]): void {
  const overlap = findOverlap(sets.flatMap((set, index) => set.map((range) => ({ range, index }))));
  if (overlap) throw invalid(fields[overlap[1].index], `range set overlaps ${fields[overlap[0].index]}`);
}

/**
 * Two ranges sharing an address (lower index first), or undefined. Sorted by start (families
 * apart), some two neighbours overlap whenever any two ranges do, so n ranges cost one sort
 * instead of n² comparisons; a range's start and end lie in its subnet, so comparing the
 * [start, end] intervals is enough.
 */
interface Indexed {
  range: Range;
  /** Where the range came from: its place in the set, or its set's place in the config. */
  index: number;
}

function findOverlap(items: Indexed[]): [Indexed, Indexed] | undefined {
  const sorted = [...items].sort((a, b) => compareIP(a.range.start, b.range.start));
  for (let k = 1; k < sorted.length; k++) {
    const [a, b] = [sorted[k - 1], sorted[k]];
    if (compareIP(b.range.start, a.range.end) <= 0) return a.index < b.index ? [a, b] : [b, a];
  }
  return undefined;
}

export function rangeContains(range: Range, ip: IP): boolean {
  return prefixContains(range.subnet, ip) && compareIP(ip, range.start) >= 0 && compareIP(ip, range.end) <= 0;
}

export const rangeSetContains = (set: RangeSet, ip: IP): boolean => set.some((r) => rangeContains(r, ip));

export const rangeFor = (set: RangeSet, ip: IP): Range | undefined => set.find((r) => rangeContains(r, ip));

export const formatRange = (r: Range): string => `${formatIP(r.start)}-${formatIP(r.end)}`;

export const formatRangeSet = (set: RangeSet): string => set.map(formatRange).join(',');

/** How many addresses the set can hand out (the gateways are never handed out). */
export function rangeSetCapacity(set: RangeSet): bigint {
  return set.reduce((sum, r) => sum + (r.end.value - r.start.value + 1n) - (rangeContains(r, r.gateway) ? 1n : 0n), 0n);
}

/**
 * Every address of the set once, round-robin: starting after `last` when it lies in the set,
 * else at the first range's start; wrapping across ranges; skipping each range's gateway.
 */
export function* candidates(set: RangeSet, last?: IP): Generator<{ ip: IP; range: Range }> {
  let rangeIndex = 0;
  let cursor = set[0].start;
  const lastIndex = last ? set.findIndex((r) => rangeContains(r, last)) : -1;
  if (last && lastIndex >= 0) {
    rangeIndex = lastIndex;
    cursor = last;
    [rangeIndex, cursor] = step(set, rangeIndex, cursor);
  }
  const total = set.reduce((sum, r) => sum + (r.end.value - r.start.value + 1n), 0n);
  for (let visited = 0n; visited < total; visited++) {
    const range = set[rangeIndex];
    if (!ipEquals(cursor, range.gateway)) yield { ip: cursor, range };
    [rangeIndex, cursor] = step(set, rangeIndex, cursor);
  }
}

function step(set: RangeSet, rangeIndex: number, cursor: IP): [number, IP] {
  if (ipEquals(cursor, set[rangeIndex].end)) {
    const next = (rangeIndex + 1) % set.length;
    return [next, set[next].start];
  }
  return [rangeIndex, addToIP(cursor, 1n)];
}
