import { CniError, ErrorCode } from '../../lib/errors';
import { log } from '../../lib/log';
import { formatIP, formatPrefix, networkAddress, parsePrefix, type Family, type IP, type Prefix } from '../../lib/ip';
import type { Result } from '../../lib/types';
import type { Conditions } from './conditions';
import type { PortMapConfig, PortMapping, Protocol } from './config';

/** Host traffic to (protocol, [hostIP,] hostPort) goes to containerIP:containerPort. */
export interface DnatEntry {
  kind: 'dnat';
  family: Family;
  protocol: Protocol;
  hostPort: number;
  hostIP?: string;
  containerIP: string;
  containerPort: number;
  /** The config's conditions of this family (conditionsV4/V6): the mapping lives in their own maps. */
  conditions?: string;
}

/** Connections DNATed to containerIP from `source` are masqueraded (hairpin, same subnet, localhost, masqAll). */
export interface SnatEntry {
  kind: 'snat';
  family: Family;
  containerIP: string;
  /** A prefix, e.g. "10.88.0.0/16", "127.0.0.0/8", "0.0.0.0/0". */
  source: string;
}

export type PortmapEntry = DnatEntry | SnatEntry;

export interface ContainerAddress {
  ip: IP;
  subnet: Prefix;
}

// IPv6 has no route_localnet: the kernel never sends ::1 off the loopback interface, so [::1]:hostPort cannot be mapped
const LOCALHOST: Record<Family, string[]> = { 4: ['127.0.0.0/8'], 6: [] };
const EVERYWHERE: Record<Family, string> = { 4: '0.0.0.0/0', 6: '::/0' };

/**
 * The container's first IPv4 and first IPv6 address from prevResult, as the reference picks them:
 * entries pointing at another interface, or at one outside a sandbox, are skipped.
 */
export function containerAddresses(prev: Result, ifname: string): Partial<Record<Family, ContainerAddress>> {
  const out: Partial<Record<Family, ContainerAddress>> = {};
  for (const ipc of prev.ips ?? []) {
    if (ipc.interface !== undefined) {
      const iface = prev.interfaces?.[ipc.interface];
      if (!iface || iface.name !== ifname || !iface.sandbox) continue;
    }
    const prefix = parsePrefix(ipc.address);
    if (!prefix || out[prefix.ip.family]) continue;
    out[prefix.ip.family] = { ip: prefix.ip, subnet: { ip: networkAddress(prefix), length: prefix.length } };
  }
  return out;
}

/** What ADD installs: one DNAT entry per mapping and family, and the masquerade entries they need. */
export function planEntries(conf: PortMapConfig, addresses: Partial<Record<Family, ContainerAddress>>, ifname: string): PortmapEntry[] {
  if (!addresses[4] && !addresses[6]) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, `prevResult has no IP address for interface ${JSON.stringify(ifname)}: nothing to map ports to`);
  }
  const dnat = conf.mappings.flatMap((m) => dnatEntries(m, addresses, conf.conditions));
  const families = [...new Set(dnat.map((e) => e.family))];
  const snat = conf.snat || conf.masqAll ? families.flatMap((f) => snatEntries(f, addresses[f]!, conf.masqAll)) : [];
  return [...dnat, ...snat];
}

function dnatEntries(m: PortMapping, addresses: Partial<Record<Family, ContainerAddress>>, conditions: Conditions): DnatEntry[] {
  if (m.family && !addresses[m.family]) {
    // as the reference: a runtime publishes a port on 0.0.0.0 and on :: whatever the container's families
    log.info('skipping a mapping whose hostIP is of a family the container has no address of', { field: m.field, hostIP: m.hostIP ?? (m.family === 4 ? '0.0.0.0' : '::') });
    return [];
  }
  const families = m.family ? [m.family] : ([4, 6] as const).filter((f) => addresses[f]);
  return families.map((family) => ({
    kind: 'dnat',
    family,
    protocol: m.protocol,
    hostPort: m.hostPort,
    ...(m.hostIP ? { hostIP: m.hostIP } : {}),
    containerIP: formatIP(addresses[family]!.ip),
    containerPort: m.containerPort,
    ...(conditions[family] ? { conditions: conditions[family] } : {}),
  }));
}

function snatEntries(family: Family, address: ContainerAddress, masqAll: boolean): SnatEntry[] {
  const containerIP = formatIP(address.ip);
  const sources = masqAll ? [EVERYWHERE[family]] : [formatPrefix(address.subnet), ...LOCALHOST[family]];
  return sources.map((source) => ({ kind: 'snat', family, containerIP, source }));
}
