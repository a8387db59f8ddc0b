import * as z from 'zod/mini';
import { invalidField } from '../../lib/errors';
import { checkKnownArgs, type CmdArgs } from '../../lib/skel';
import { requestedMac } from '../../lib/skel/mac';
import { lenientString, NetConf, parseWith } from '../../lib/types';

const opt = z.optional;
const Attributes = {
  sysctl: opt(z.record(z.string(), z.string())),
  mac: opt(z.string()),
  mtu: opt(z.int().check(z.minimum(68), z.maximum(65535))),
  promisc: opt(z.boolean()),
  allmulti: opt(z.boolean()),
  txQLen: opt(z.int().check(z.minimum(0), z.maximum(0xffffffff))),
};

const TuningConf = z.extend(NetConf, {
  ...Attributes,
  dataDir: opt(z.string()),
  runtimeConfig: opt(z.looseObject({ mac: opt(z.string()) })),
  args: opt(z.looseObject({ cni: opt(z.looseObject(Attributes)) })),
});

/** What tuning changes on the container interface; undefined fields are left alone. */
export interface TuningConfig {
  cniVersion: string;
  /** Path segments under /proc/sys (net/...) and the value to write, in the container's namespace. */
  sysctls: Array<{ key: string; segments: string[]; value: string }>;
  mac?: string;
  mtu?: number;
  promisc?: boolean;
  allmulti?: boolean;
  txQLen?: number;
  dataDir: string;
}

export const DEFAULT_DATA_DIR = '/run/cni/tuning';

/**
 * The backup directory alone, read leniently: for STATUS (no interface whose sysctl keys could be
 * checked) and DEL (which must not refuse a config ADD refused).
 */
export const dataDirOf = (cmd: Pick<CmdArgs, 'config'>): string => lenientString(cmd.config, 'dataDir') || DEFAULT_DATA_DIR;

/** args.cni.* override the config's fields, per attachment, as in the reference. */
export function parseConfig(cmd: CmdArgs): TuningConfig {
  const conf = parseWith(TuningConf, cmd.config, 'tuning config');
  checkKnownArgs(cmd.args, ['MAC']);
  const perAttachment = conf.args?.cni ?? {};
  const sysctl = { ...conf.sysctl, ...perAttachment.sysctl };
  return {
    cniVersion: conf.cniVersion,
    sysctls: Object.entries(sysctl).map(([key, value]) => ({ key, value, segments: sysctlSegments(key, cmd.ifname) })),
    mac: requestedMac([
      [conf.mac, 'mac'],
      [cmd.args.get('MAC'), 'CNI_ARGS MAC'],
      [perAttachment.mac, 'args.cni.mac'],
      [conf.runtimeConfig?.mac, 'runtimeConfig.mac'],
    ]),
    mtu: perAttachment.mtu ?? conf.mtu,
    promisc: perAttachment.promisc ?? conf.promisc,
    allmulti: perAttachment.allmulti ?? conf.allmulti,
    txQLen: perAttachment.txQLen ?? conf.txQLen,
    dataDir: conf.dataDir || DEFAULT_DATA_DIR,
  };
}

/**
 * "net.ipv4.conf.IFNAME.rp_filter" or "net/ipv4/conf/eth0.100/rp_filter" (slashes when an interface
 * name has dots) to path segments; only keys under /proc/sys/net are namespaced, so only they pass.
 */
export function sysctlSegments(key: string, ifname: string): string[] {
  const field = `sysctl[${JSON.stringify(key)}]`;
  const segments = key.replaceAll('IFNAME', ifname).split(key.includes('/') ? '/' : '.');
  if (segments[0] !== 'net') throw invalidField(field, "only net.* sysctls can be set: they are the ones that belong to the container's network namespace");
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0'))) throw invalidField(field, 'is not a sysctl name');
  return segments;
}
