import { CniError, ErrorCode } from '../../lib/errors';
import { bitsOf, formatIP, parsePrefix, type Family } from '../../lib/ip';
import type { Result } from '../../lib/types';
import type { FirewallConfig } from './config';

/**
 * The reference's per-address rules in iptables' filter table (chain CNI-FORWARD, jumped to
 * from FORWARD): replies to the container and everything from it are accepted.
 */
export interface AllowEntry {
  kind: 'allow';
  family: Family;
  /** "10.88.0.2/32", as iptables-save prints it. */
  address: string;
  adminChain: string;
}

/**
 * A bridge under ingressPolicy same-bridge ("isolate": no forwarding between it and another
 * isolated bridge) or isolated ("icc": not even between its own ports, as far as routed).
 * Shared by every container on the bridge.
 */
export interface IsolationEntry {
  kind: 'isolate' | 'icc';
  bridge: string;
}

/** The reference's firewalld backend: the container's address is a source of a zone (runtime configuration). */
export interface ZoneEntry {
  kind: 'zone';
  zone: string;
  /** "10.88.0.2/32", as firewalld lists it. */
  source: string;
}

export type FirewallEntry = AllowEntry | ZoneEntry | IsolationEntry;

/** What the host has that decides where the addresses are let through. */
export interface HostFirewall {
  /** iptables' filter table holds a FORWARD chain for this family (whatever its policy is now). */
  iptablesForward(family: Family): boolean;
  /** firewalld owns its name on the system bus. */
  firewalldRunning(): boolean;
}

/**
 * Every address in prevResult (the reference does not filter by interface), let through by
 * firewalld or iptables as the backend decides, and the bridge's isolation.
 */
export function planEntries(conf: FirewallConfig, prev: Result, host: HostFirewall): FirewallEntry[] {
  const addresses = (prev.ips ?? []).map((ipc, i) => {
    const prefix = parsePrefix(ipc.address);
    if (!prefix)
      throw new CniError(ErrorCode.InvalidNetworkConfig, `invalid field "prevResult.ips[${i}].address": ${JSON.stringify(ipc.address)} is not an address with a prefix length`);
    return { family: prefix.ip.family, address: `${formatIP(prefix.ip)}/${bitsOf(prefix.ip.family)}` };
  });
  const firewalld = conf.backend === 'firewalld' || (conf.backend === 'auto' && addresses.length > 0 && host.firewalldRunning());
  const passed: FirewallEntry[] = firewalld
    ? addresses.map(({ address }) => ({ kind: 'zone', zone: conf.firewalldZone, source: address }))
    : addresses
        .filter(({ family }) => conf.backend === 'iptables' || host.iptablesForward(family))
        .map(({ family, address }) => ({ kind: 'allow', family, address, adminChain: conf.adminChain }));
  return [...passed, ...isolationEntries(conf, prev)];
}

function isolationEntries(conf: FirewallConfig, prev: Result): IsolationEntry[] {
  if (conf.ingressPolicy === 'open') return [];
  // the reference takes the first interface: the bridge when chained after bridge
  const bridge = prev.interfaces?.[0];
  if (!bridge?.name || bridge.sandbox) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `invalid field "ingressPolicy": ${JSON.stringify(conf.ingressPolicy)} needs the bridge as the first interface of prevResult; chain "firewall" after "bridge"`,
    );
  }
  const isolate: IsolationEntry = { kind: 'isolate', bridge: bridge.name };
  return conf.ingressPolicy === 'isolated' ? [isolate, { kind: 'icc', bridge: bridge.name }] : [isolate];
}

export function resourceOf(e: FirewallEntry): string {
  if (e.kind === 'allow') return `allow${e.family}/${e.address}`;
  // one zone per source: firewalld refuses a second
  if (e.kind === 'zone') return `firewalld/${e.source}`;
  return `${e.kind}/${e.bridge}`;
}

export function describeEntry(e: FirewallEntry): string {
  if (e.kind === 'allow') return `${e.family === 4 ? 'iptables' : 'ip6tables'} CNI-FORWARD rules for ${e.address}`;
  if (e.kind === 'zone') return `source ${e.source} in firewalld zone ${JSON.stringify(e.zone)}`;
  return `${e.kind === 'icc' ? 'isolated' : 'same-bridge'} policy of bridge ${JSON.stringify(e.bridge)}`;
}
