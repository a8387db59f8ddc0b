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

export type FirewallEntry = AllowEntry | IsolationEntry;

/** What the host has that decides where allow rules are needed. */
export interface HostFirewall {
  /** iptables' filter table holds a FORWARD chain for this family (whatever its policy is now). */
  iptablesForward(family: Family): boolean;
}

/** Every address in prevResult (the reference does not filter by interface) and the bridge's isolation. */
export function planEntries(conf: FirewallConfig, prev: Result, host: HostFirewall): FirewallEntry[] {
  const allow: AllowEntry[] = [];
  for (const [i, ipc] of (prev.ips ?? []).entries()) {
    const prefix = parsePrefix(ipc.address);
    if (!prefix)
      throw new CniError(ErrorCode.InvalidNetworkConfig, `invalid field "prevResult.ips[${i}].address": ${JSON.stringify(ipc.address)} is not an address with a prefix length`);
    const family = prefix.ip.family;
    if (!conf.iptablesAlways && !host.iptablesForward(family)) continue;
    allow.push({ kind: 'allow', family, address: `${formatIP(prefix.ip)}/${bitsOf(family)}`, adminChain: conf.adminChain });
  }
  return [...allow, ...isolationEntries(conf, prev)];
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

export const resourceOf = (e: FirewallEntry): string => (e.kind === 'allow' ? `allow${e.family}/${e.address}` : `${e.kind}/${e.bridge}`);

export const describeEntry = (e: FirewallEntry): string =>
  e.kind === 'allow'
    ? `${e.family === 4 ? 'iptables' : 'ip6tables'} CNI-FORWARD rules for ${e.address}`
    : `${e.kind === 'icc' ? 'isolated' : 'same-bridge'} policy of bridge ${JSON.stringify(e.bridge)}`;
