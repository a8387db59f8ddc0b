export type Family = 4 | 6;

/** An IP address as a family and a big integer, so range math is plain arithmetic. */
export interface IP {
  readonly family: Family;
  readonly value: bigint;
}

export const bitsOf = (family: Family): number => (family === 4 ? 32 : 128);

/**
 * Parses an IPv4 or IPv6 address (no prefix, no zone); undefined when it is not one. Accepts what
 * node:net's isIPv4/isIPv6 accept (no leading zeros in IPv4), by hand: node:net's IPv6 regular
 * expression costs milliseconds to compile on every start.
 */
export function parseIP(text: string): IP | undefined {
  if (text.includes(':')) return parseIPv6(text);
  const value = parseIPv4(text);
  return value === undefined ? undefined : { family: 4, value: BigInt(value) };
}

function parseIPv4(text: string): number | undefined {
  const octets = text.split('.');
  if (octets.length !== 4) return undefined;
  let value = 0;
  for (const octet of octets) {
    const n = parseDigits(octet, 10, 3);
    if (n === undefined || n > 255 || (octet.length > 1 && octet[0] === '0')) return undefined;
    value = value * 256 + n;
  }
  return value;
}

function parseIPv6(text: string): IP | undefined {
  let head = text;
  let embeddedV4: number | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    embeddedV4 = parseIPv4(text.slice(lastColon + 1));
    if (embeddedV4 === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const gap = head.indexOf('::');
  if (gap >= 0 && head.includes('::', gap + 1)) return undefined;
  const left = groupsOf(gap < 0 ? head : head.slice(0, gap));
  const right = gap < 0 ? [] : groupsOf(head.slice(gap + 2));
  const count = left.length + right.length;
  if (gap < 0 ? count !== 8 : count > 7) return undefined;
  const groups = [...left, ...Array<string>(8 - count).fill('0'), ...right];
  let value = 0n;
  for (const group of groups) {
    const n = parseDigits(group, 16, 4);
    if (n === undefined) return undefined;
    value = (value << 16n) | BigInt(n);
  }
  if (embeddedV4 !== undefined) value = (value & ~0xffffffffn) | BigInt(embeddedV4);
  // An IPv4-mapped IPv6 address is an IPv4 address to every plugin, as in Go's net.IP.
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

/** 1 to maxDigits decimal digits, nothing else (no sign, no space); undefined otherwise. */
export const parseDecimal = (text: string, maxDigits: number): number | undefined => parseDigits(text, 10, maxDigits);

const groupsOf = (text: string): string[] => (text === '' ? [] : text.split(':'));

/** 1 to maxDigits digits of the radix (10 or 16), nothing else; undefined otherwise. */
function parseDigits(text: string, radix: 10 | 16, maxDigits: number): number | undefined {
  if (text.length === 0 || text.length > maxDigits) return undefined;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = digitValue(text.charCodeAt(i));
    if (digit >= radix) return undefined;
    n = n * radix + digit;
  }
  return n;
}

function digitValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87; // a-f, A-F
  return 99;
}

/** Canonical text: dotted quad, or RFC 5952 (what Go's net.IP.String prints, so store file names match). */
export function formatIP(ip: IP): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  const [runStart, runLength] = longestZeroRun(groups);
  if (runLength < 2) return groups.map((g) => g.toString(16)).join(':');
  const before = groups
    .slice(0, runStart)
    .map((g) => g.toString(16))
    .join(':');
  const after = groups
    .slice(runStart + runLength)
    .map((g) => g.toString(16))
    .join(':');
  return `${before}::${after}`;
}

function longestZeroRun(groups: number[]): [number, number] {
  let best: [number, number] = [-1, 0];
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > best[1]) best = [i, j - i];
    i = j;
  }
  return best;
}

export function ipEquals(a: IP, b: IP): boolean {
  return a.family === b.family && a.value === b.value;
}

export function compareIP(a: IP, b: IP): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

export function addToIP(ip: IP, delta: bigint): IP {
  return { family: ip.family, value: ip.value + delta };
}
