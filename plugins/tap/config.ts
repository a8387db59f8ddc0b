import * as z from 'zod/mini';
import { CniError, ErrorCode, invalidField as invalid } from '../../lib/errors';
import { IFF_MULTI_QUEUE, IFF_NO_PI, IFF_TAP, IFF_VNET_HDR } from '../../lib/ffi/tun';
import { checkKnownArgs, type CmdArgs } from '../../lib/skel';
import { requestedMac } from '../../lib/skel/mac';
import { validateInterfaceName } from '../../lib/skel/validate';
import { NetConf, parseWith, type DNS } from '../../lib/types';

const opt = z.optional;
const id = opt(z.int().check(z.minimum(0), z.maximum(0xfffffffe)));

const TapConf = z.extend(NetConf, {
  multiQueue: opt(z.boolean()),
  mtu: opt(z.int()),
  mac: opt(z.string()),
  owner: id,
  group: id,
  selinuxContext: opt(z.string()),
  bridge: opt(z.string()),
  runtimeConfig: opt(z.looseObject({ mac: opt(z.string()) })),
});

export interface TapConfig {
  cniVersion: string;
  networkName: string;
  multiQueue: boolean;
  /** undefined (0 in the config): the kernel's 1500. */
  mtu?: number;
  /** From the config's mac, CNI_ARGS MAC, runtimeConfig.mac (later wins, as in the reference). */
  mac?: string;
  owner?: number;
  group?: number;
  /** A bridge in the container's namespace the tap becomes a port of. */
  bridge?: string;
  /** TUNSETIFF flags, as the reference ends up with them (see flagsOf). */
  flags: number;
  ipamType?: string;
  dns?: DNS;
}

/**
 * The device flags the reference's tap creates with: through `ip tuntap` (owner or group not both
 * given) IFF_TAP | IFF_NO_PI, plus IFF_MULTI_QUEUE; through vishvananda/netlink (both given)
 * IFF_TAP | IFF_VNET_HDR, plus IFF_MULTI_QUEUE | IFF_NO_PI. Whoever opens the tap later sets
 * its own PI and vnet header flags; only multi-queue must match.
 */
export function flagsOf(multiQueue: boolean, owner: number | undefined, group: number | undefined): number {
  if (owner !== undefined && group !== undefined) return IFF_TAP | IFF_VNET_HDR | (multiQueue ? IFF_MULTI_QUEUE | IFF_NO_PI : 0);
  return IFF_TAP | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0);
}

export function parseConfig(cmd: CmdArgs): TapConfig {
  const conf = parseWith(TapConf, cmd.config, 'tap config');
  if (conf.selinuxContext) {
    throw new CniError(
      ErrorCode.UnsupportedField,
      'unsupported field "selinuxContext": this tap plugin creates the device in-process and cannot run that step under another SELinux label (the reference runs `ip tuntap` with it); remove the field, or use the reference\'s tap for this network',
    );
  }
  if (conf.mtu && (conf.mtu < 68 || conf.mtu > 65535)) throw invalid('mtu', `${conf.mtu} is outside 68..65535 (0 or absent: the kernel's default)`);
  if (conf.bridge) {
    try {
      validateInterfaceName(conf.bridge);
    } catch {
      throw invalid('bridge', `${JSON.stringify(conf.bridge)} is not a valid interface name`);
    }
  }
  checkKnownArgs(cmd.args, ['MAC', 'IP']);
  const multiQueue = Boolean(conf.multiQueue);
  return {
    cniVersion: conf.cniVersion,
    networkName: conf.name,
    multiQueue,
    mtu: conf.mtu || undefined,
    mac: requestedMac([
      [conf.mac, 'mac'],
      [cmd.args.get('MAC'), 'CNI_ARGS MAC'],
      [conf.runtimeConfig?.mac, 'runtimeConfig.mac'],
    ]),
    owner: conf.owner,
    group: conf.group,
    bridge: conf.bridge || undefined,
    flags: flagsOf(multiQueue, conf.owner, conf.group),
    ipamType: conf.ipam?.type || undefined,
    dns: conf.dns && Object.keys(conf.dns).length ? conf.dns : undefined,
  };
}
