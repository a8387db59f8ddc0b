import * as z from 'zod/mini';
import { invalidField } from '../../lib/errors';
import type { CmdArgs } from '../../lib/skel';
import { NetConf, parseWith } from '../../lib/types';

const opt = z.optional;

const FirewallConf = z.extend(NetConf, {
  backend: opt(z.string()),
  iptablesAdminChainName: opt(z.string()),
  firewalldZone: opt(z.string()),
  ingressPolicy: opt(z.string()),
});

export const INGRESS_POLICIES = ['open', 'same-bridge', 'isolated'] as const;
export type IngressPolicy = (typeof INGRESS_POLICIES)[number];

/**
 * Where the container's addresses are let through, as the reference decides: "iptables" installs
 * the FORWARD rules whatever the host has; "firewalld" puts them into a firewalld zone; "auto"
 * (unset, "" or "nftables") means firewalld when it is on the system bus, else the iptables
 * rules where an iptables filter table exists.
 */
export type Backend = 'auto' | 'iptables' | 'firewalld';

export interface FirewallConfig {
  cniVersion: string;
  networkName: string;
  backend: Backend;
  firewalldZone: string;
  adminChain: string;
  ingressPolicy: IngressPolicy;
}

export const DEFAULT_ADMIN_CHAIN = 'CNI-ADMIN';
// iptables' limit (XT_EXTENSION_MAXNAMELEN - 1)
const MAX_CHAIN_NAME = 28;

export function parseConfig(cmd: CmdArgs): FirewallConfig {
  const conf = parseWith(FirewallConf, cmd.config, 'firewall config');
  return {
    cniVersion: conf.cniVersion,
    networkName: conf.name,
    backend: backend(conf.backend),
    firewalldZone: firewalldZone(conf.firewalldZone),
    adminChain: adminChain(conf.iptablesAdminChainName),
    ingressPolicy: ingressPolicy(conf.ingressPolicy),
  };
}

function backend(name: string | undefined): Backend {
  if (name === undefined || name === '' || name === 'nftables') return 'auto';
  if (name === 'iptables' || name === 'firewalld') return name;
  throw invalidField('backend', `${JSON.stringify(name)} is not a backend: expected "iptables", "firewalld", "nftables" or ""`);
}

export const DEFAULT_FIREWALLD_ZONE = 'trusted';

/** firewalld checks the name itself (INVALID_ZONE); this only keeps out what could never be one. */
function firewalldZone(zone: string | undefined): string {
  if (zone === undefined || zone === '') return DEFAULT_FIREWALLD_ZONE;
  if (!/^[A-Za-z0-9_.+-]{1,64}$/.test(zone)) throw invalidField('firewalldZone', `${JSON.stringify(zone)} is not a firewalld zone name (letters, digits, "_", ".", "+", "-")`);
  return zone;
}

function adminChain(name: string | undefined): string {
  if (name === undefined || name === '') return DEFAULT_ADMIN_CHAIN;
  if (name.length > MAX_CHAIN_NAME || !/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw invalidField('iptablesAdminChainName', `${JSON.stringify(name)} is not an iptables chain name (at most ${MAX_CHAIN_NAME} letters, digits, "-", "_" or ".")`);
  }
  return name;
}

function ingressPolicy(policy: string | undefined): IngressPolicy {
  if (policy === undefined || policy === '') return 'open';
  if ((INGRESS_POLICIES as readonly string[]).includes(policy)) return policy as IngressPolicy;
  throw invalidField('ingressPolicy', `${JSON.stringify(policy)} is not a policy: expected one of ${INGRESS_POLICIES.join(', ')}`);
}
