import { parsePrefix } from '../ip';
import { isLegacyResultVersion } from './version';
import type { DNS, IPConfig, Result } from './result';

/** Fields that only exist from spec 1.1.0 on; legacy results never had them. */
const routeFields11 = ['mtu', 'advmss', 'priority', 'table', 'scope'] as const;
const interfaceFields11 = ['mtu', 'socketPath', 'pciID'] as const;

/** Converts an internal (1.x) result to the wire shape of `version`. */
export function resultToVersion(result: Result, version: string): Record<string, unknown> {
  const out: Record<string, unknown> = { cniVersion: version };
  const legacy = isLegacyResultVersion(version);
  if (result.interfaces?.length) out.interfaces = result.interfaces.map((i) => (legacy ? omit(i, interfaceFields11) : i));
  if (result.ips?.length) out.ips = result.ips.map((ip) => (legacy ? legacyIP(ip) : omit(ip, ['version'])));
  if (result.routes?.length) out.routes = result.routes.map((r) => (legacy ? omit(r, routeFields11) : r));
  if (result.dns && !isEmptyDNS(result.dns)) out.dns = result.dns;
  return out;
}

/** Converts a parsed result of any supported version to the internal shape (drops ips[].version). */
export function resultFromAnyVersion(result: Result): Result {
  return {
    ...result,
    ips: result.ips?.map((ip) => omit(ip, ['version']) as IPConfig),
  };
}

function legacyIP(ip: IPConfig): Record<string, unknown> {
  const prefix = parsePrefix(ip.address);
  const { address, gateway, interface: iface, ...rest } = ip;
  return { ...omit(rest as Record<string, unknown>, ['version']), interface: iface, version: prefix?.ip.family === 6 ? '6' : '4', address, gateway };
}

function omit<T extends object>(value: T, keys: readonly string[]): Partial<T> {
  const copy = { ...value } as Record<string, unknown>;
  for (const key of keys) delete copy[key];
  return copy as Partial<T>;
}

function isEmptyDNS(dns: DNS): boolean {
  return !dns.nameservers?.length && !dns.domain && !dns.search?.length && !dns.options?.length;
}
