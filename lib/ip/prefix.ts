import { bitsOf, formatIP, parseDecimal, parseIP, type Family, type IP } from './address';

/** An address with a prefix length, e.g. 10.1.0.5/16: the address may have host bits set. */
export interface Prefix {
  readonly ip: IP;
  readonly length: number;
}

/** Parses "addr/len"; undefined when malformed or the length is out of range for the family. */
export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(text.slice(0, slash));
  const length = parseDecimal(text.slice(slash + 1), 3);
  if (!ip || length === undefined) return undefined;
  // An IPv4-mapped IPv6 prefix ("::ffff:10.0.0.0/104") is taken as its IPv4 form.
  const adjusted = ip.family === 4 && text.slice(0, slash).includes(':') ? length - 96 : length;
  if (adjusted < 0 || adjusted > bitsOf(ip.family)) return undefined;
  return { ip, length: adjusted };
}

export function formatPrefix(prefix: Prefix): string {
  return `${formatIP(prefix.ip)}/${prefix.length}`;
}

export function hostMask(family: Family, length: number): bigint {
  return (1n << BigInt(bitsOf(family) - length)) - 1n;
}

export function networkAddress(prefix: Prefix): IP {
  return { family: prefix.ip.family, value: prefix.ip.value & ~hostMask(prefix.ip.family, prefix.length) };
}

/** The last address in the prefix (the IPv4 broadcast address). */
export function lastAddress(prefix: Prefix): IP {
  return { family: prefix.ip.family, value: networkAddress(prefix).value | hostMask(prefix.ip.family, prefix.length) };
}

export function hasHostBits(prefix: Prefix): boolean {
  return networkAddress(prefix).value !== prefix.ip.value;
}

/** The prefix of one address: /32 or /128. */
export const hostPrefix = (ip: IP): Prefix => ({ ip, length: ip.family === 4 ? 32 : 128 });

export function prefixContains(prefix: Prefix, ip: IP): boolean {
  return ip.family === prefix.ip.family && (ip.value & ~hostMask(ip.family, prefix.length)) === networkAddress(prefix).value;
}

export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  return prefixContains(a, networkAddress(b)) || prefixContains(b, networkAddress(a));
}

const NOT_GLOBAL = ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '255.255.255.255/32', '::/128', '::1/128', 'fe80::/10', 'ff00::/8'].map((p) => parsePrefix(p)!);

/** Go's net.IP.IsGlobalUnicast: not unspecified, loopback, link-local or multicast (private ranges count). */
export const isGlobalUnicast = (ip: IP): boolean => !NOT_GLOBAL.some((p) => prefixContains(p, ip));
