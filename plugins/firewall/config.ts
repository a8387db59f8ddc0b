import * as z from 'zod/mini';
import { CniError, ErrorCode, invalidField } from '../../lib/errors';
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

export interface FirewallConfig {
  cniVersion: string;
  networkName: string;
  /**
   * Install the reference's iptables FORWARD rules even when the host has no iptables filter
   * table yet ("backend": "iptables"); otherwise only when one exists.
   */
  iptablesAlways: boolean;
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
    iptablesAlways: checkBackend(conf.backend),
    adminChain: adminChain(conf.iptablesAdminChainName),
    ingressPolicy: ingressPolicy(conf.ingressPolicy),
  };
}

/** Returns whether the iptables rules are wanted unconditionally. */
function checkBackend(backend: string | undefined): boolean {
  if (backend === undefined || backend === '' || backend === 'nftables') return false;
  if (backend === 'iptables') return true;
  if (backend === 'firewalld') {
    throw new CniError(
      ErrorCode.UnsupportedField,
      'unsupported value "firewalld" of field "backend": this suite does not talk to firewalld (D-Bus); use "iptables" or leave "backend" empty, and put the bridge into a firewalld zone yourself (firewall-cmd --zone=trusted --add-interface=BRIDGE)',
    );
  }
  throw invalidField('backend', `${JSON.stringify(backend)} is not a backend: expected "iptables", "nftables", "firewalld" or ""`);
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
