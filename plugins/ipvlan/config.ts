import * as z from 'zod/mini';
import { invalidField as invalid } from '../../lib/errors';
import { masterField, mtuField, type MasterChoice } from '../../lib/iface/master';
import { IPVLAN_MODES, type IpvlanMode } from '../../lib/netlink/ipvlan';
import type { CmdArgs } from '../../lib/skel';
import { NetConf, parseWith, type DNS, type IPConfig, type Route } from '../../lib/types';

const opt = z.optional;

const IpvlanConf = z.extend(NetConf, {
  master: opt(z.string()),
  mode: opt(z.string()),
  mtu: opt(z.int()),
  linkInContainer: opt(z.boolean()),
});

/** ipvlan's config with defaults filled; the master is resolved against the kernel by resolveMaster. */
export interface IpvlanConfig extends MasterChoice {
  cniVersion: string;
  networkName: string;
  mode: IpvlanMode;
  /** undefined: no IPAM, the addresses come from prevResult (chained; see addInputs). */
  ipamType?: string;
  dns?: DNS;
}

export function parseConfig(cmd: CmdArgs): IpvlanConfig {
  const conf = parseWith(IpvlanConf, cmd.config, 'ipvlan config');
  const mode = conf.mode || 'l2';
  if (!Object.hasOwn(IPVLAN_MODES, mode)) throw invalid('mode', `${JSON.stringify(conf.mode)} is not an ipvlan mode: "l2" (the default), "l3" or "l3s"`);
  return {
    cniVersion: conf.cniVersion,
    networkName: conf.name,
    master: masterField(conf.master),
    mode: mode as IpvlanMode,
    mtu: mtuField(conf.mtu),
    linkInContainer: Boolean(conf.linkInContainer),
    ipamType: conf.ipam?.type || undefined,
    dns: conf.dns && Object.keys(conf.dns).length ? conf.dns : undefined,
  };
}

/** Where an ADD's master and addresses come from. */
export interface AddInputs {
  /** The configured master; when chained without one, prevResult's single interface; else undefined (the default route's). */
  master?: string;
  /** Chained without IPAM: prevResult's addresses and routes, put on the ipvlan as IPAM's would be. */
  chained?: { ips: IPConfig[]; routes: Route[] };
}

/**
 * The reference's ADD-time rules for a chained ipvlan: with a prevResult and no master, the master
 * is prevResult's only interface; with a prevResult holding addresses and no IPAM, those addresses
 * are the ipvlan's. Without IPAM and without such a prevResult there is nothing to configure (code 7).
 */
export function addInputs(conf: IpvlanConfig, cmd: CmdArgs): AddInputs {
  const prev = cmd.prevResult;
  let master = conf.master;
  if (!master && prev) {
    const named = prev.interfaces ?? [];
    if (named.length !== 1 || !named[0].name) {
      throw invalid('master', `not set, and prevResult names ${named.length} interfaces, not the single one a chained ipvlan takes as its master`);
    }
    master = masterField(named[0].name);
  }
  if (conf.ipamType) return { master };
  if (!prev?.ips?.length) throw invalid('ipam', 'is required unless ipvlan is chained after a plugin whose prevResult holds addresses');
  return { master, chained: { ips: prev.ips, routes: prev.routes ?? [] } };
}
