import * as z from 'zod/mini';
import { invalidField as invalid } from '../../lib/errors';
import { parseNonMasqueradeCIDRs } from '../../lib/iface/masquerade-config';
import type { Prefix } from '../../lib/ip';
import type { CmdArgs } from '../../lib/skel';
import { acceptBackendField } from '../../lib/nft/backend-field';
import { NetConf, parseWith, type DNS } from '../../lib/types';

const opt = z.optional;

const PtpConf = z.extend(NetConf, {
  ipMasq: opt(z.boolean()),
  ipMasqBackend: opt(z.string()),
  nonMasqueradeCIDRs: opt(z.array(z.string())),
  // 0 is the reference's "not set" (the kernel's default, 1500)
  mtu: opt(z.int().check(z.minimum(0), z.maximum(65535))),
});

/** ptp's config with defaults filled and cross-field rules checked. */
export interface PtpConfig {
  cniVersion: string;
  networkName: string;
  ipMasq: boolean;
  /** Destinations never masqueraded (our extension; see docs/ptp.md). */
  nonMasqueradeCIDRs: Prefix[];
  mtu?: number;
  /** The IPAM plugin type: ptp has no address without one. */
  ipamType: string;
  dns?: DNS;
}

export function parseConfig(cmd: CmdArgs): PtpConfig {
  const conf = parseWith(PtpConf, cmd.config, 'ptp config');
  const ipamType = conf.ipam?.type;
  if (!ipamType) throw invalid('ipam.type', 'ptp needs an IPAM plugin (e.g. "host-local"): the container interface and the host side are configured from its addresses');
  if (conf.mtu !== undefined && conf.mtu !== 0 && conf.mtu < 68) throw invalid('mtu', `${conf.mtu} is below the IPv4 minimum of 68 (0 or absent: the kernel's default)`);
  acceptBackendField('ipMasqBackend', conf.ipMasqBackend, 'masquerading');
  return {
    cniVersion: conf.cniVersion,
    networkName: conf.name,
    ipMasq: Boolean(conf.ipMasq),
    nonMasqueradeCIDRs: parseNonMasqueradeCIDRs(conf.nonMasqueradeCIDRs),
    mtu: conf.mtu || undefined,
    ipamType,
    dns: conf.dns && Object.keys(conf.dns).length ? conf.dns : undefined,
  };
}
