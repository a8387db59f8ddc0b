import * as z from 'zod/mini';
import { invalidField as invalid } from '../../lib/errors';
import { MACVLAN_MODES, type MacvlanMode } from '../../lib/netlink/macvlan';
import { checkKnownArgs, type CmdArgs } from '../../lib/skel';
import { requestedMac } from '../../lib/skel/mac';
import { validateInterfaceName } from '../../lib/skel/validate';
import { NetConf, parseWith, type DNS } from '../../lib/types';

const opt = z.optional;

const MacvlanConf = z.extend(NetConf, {
  master: opt(z.string()),
  mode: opt(z.string()),
  mtu: opt(z.int()),
  mac: opt(z.string()),
  linkInContainer: opt(z.boolean()),
  bcqueuelen: opt(z.int().check(z.minimum(0), z.maximum(0xffffffff))),
  runtimeConfig: opt(z.looseObject({ mac: opt(z.string()) })),
});

/** macvlan's config with defaults filled; the master is resolved against the kernel by resolveMaster. */
export interface MacvlanConfig {
  cniVersion: string;
  networkName: string;
  /** The parent interface; undefined: the interface of the default route (host, or container with linkInContainer). */
  master?: string;
  mode: MacvlanMode;
  /** undefined (0 in the config): the master's MTU. */
  mtu?: number;
  /** From the config's mac, CNI_ARGS MAC, runtimeConfig.mac (later wins, as in the reference). */
  mac?: string;
  /** The master is in the container's namespace, not the host's. */
  linkInContainer: boolean;
  bcQueueLen?: number;
  /** undefined: an L2-only interface, up without addresses. */
  ipamType?: string;
  dns?: DNS;
}

export function parseConfig(cmd: CmdArgs): MacvlanConfig {
  const conf = parseWith(MacvlanConf, cmd.config, 'macvlan config');
  if (conf.master) {
    try {
      validateInterfaceName(conf.master);
    } catch {
      throw invalid('master', `${JSON.stringify(conf.master)} is not a valid interface name`);
    }
  }
  const mode = conf.mode || 'bridge';
  if (!Object.hasOwn(MACVLAN_MODES, mode)) throw invalid('mode', `${JSON.stringify(conf.mode)} is not a macvlan mode: "bridge" (the default), "private", "vepa" or "passthru"`);
  if (conf.mtu !== undefined && conf.mtu < 0) throw invalid('mtu', `${conf.mtu} is negative (0 or absent: the master's MTU)`);
  checkKnownArgs(cmd.args, ['MAC', 'IP']);
  return {
    cniVersion: conf.cniVersion,
    networkName: conf.name,
    master: conf.master || undefined,
    mode: mode as MacvlanMode,
    mtu: conf.mtu || undefined,
    mac: requestedMac([
      [conf.mac, 'mac'],
      [cmd.args.get('MAC'), 'CNI_ARGS MAC'],
      [conf.runtimeConfig?.mac, 'runtimeConfig.mac'],
    ]),
    linkInContainer: Boolean(conf.linkInContainer),
    bcQueueLen: conf.bcqueuelen || undefined,
    ipamType: conf.ipam?.type || undefined,
    dns: conf.dns && Object.keys(conf.dns).length ? conf.dns : undefined,
  };
}
