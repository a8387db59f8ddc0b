import { join } from 'node:path';
import * as z from 'zod/mini';
import { CniError, ErrorCode, invalidField } from '../../lib/errors';
import { parseIP, parsePrefix, type IP } from '../../lib/ip';
import { checkKnownArgs, type CmdArgs } from '../../lib/skel';
import { NetConf, Route, parseWith, versionAtLeast, type Route as RouteT } from '../../lib/types';
import { canonicalizeRange, canonicalizeRangeSet, checkRangeSetsDisjoint, type RangeInput, type RangeSet } from './range';

export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';
/** Ranges in all range sets together: far beyond any real network, and a bound on validation work. */
export const MAX_RANGES = 1024;

const opt = z.optional;
const text = z.string();

const RangeSchema = z.looseObject({ subnet: text, rangeStart: opt(text), rangeEnd: opt(text), gateway: opt(text) });

const HostLocalConf = z.extend(NetConf, {
  ipam: z.looseObject({
    type: opt(text),
    ranges: opt(z.array(z.array(RangeSchema))),
    subnet: opt(text),
    rangeStart: opt(text),
    rangeEnd: opt(text),
    gateway: opt(text),
    routes: opt(z.array(Route)),
    resolvConf: opt(text),
    dataDir: opt(z.string().check(z.minLength(1))),
  }),
  runtimeConfig: opt(z.looseObject({ ips: opt(z.array(text)), ipRanges: opt(z.array(z.array(RangeSchema))) })),
  args: opt(z.looseObject({ cni: opt(z.looseObject({ ips: opt(z.array(text)) })) })),
});

/** host-local's config with every default filled and every cross-field rule checked. */
export interface HostLocalConfig {
  cniVersion: string;
  networkName: string;
  /** <dataDir>/<network name>: the store's directory. */
  storeDir: string;
  rangeSets: RangeSet[];
  requestedIPs: IP[];
  routes: RouteT[];
  resolvConf?: string;
}

/** <dataDir>/<network name>; an empty dataDir means the default, as in the reference. */
export const storeDirOf = (network: string, dataDir: string | undefined): string => join(dataDir || DEFAULT_DATA_DIR, network);

export function parseConfig(cmd: CmdArgs): HostLocalConfig {
  const conf = parseWith(HostLocalConf, cmd.config, 'host-local config');
  const ipam = conf.ipam;
  checkRangeCount([
    [conf.runtimeConfig?.ipRanges?.flat().length ?? 0, 'runtimeConfig.ipRanges'],
    [ipam.subnet ? 1 : 0, 'ipam.subnet'],
    [ipam.ranges?.flat().length ?? 0, 'ipam.ranges'],
  ]);
  const sets: Array<{ set: RangeSet; field: string }> = [];
  const addSets = (list: RangeInput[][] | undefined, field: string) => {
    for (const [i, inputs] of (list ?? []).entries()) sets.push({ set: canonicalizeRangeSet(inputs, `${field}[${i}]`), field: `${field}[${i}]` });
  };
  addSets(conf.runtimeConfig?.ipRanges, 'runtimeConfig.ipRanges');
  if (ipam.subnet) {
    // the deprecated single range, whose fields sit directly under "ipam", comes first
    const { subnet, rangeStart, rangeEnd, gateway } = ipam;
    sets.push({ set: [canonicalizeRange({ subnet, rangeStart, rangeEnd, gateway }, 'ipam')], field: 'ipam.subnet' });
  }
  addSets(ipam.ranges, 'ipam.ranges');
  if (sets.length === 0) throw new CniError(ErrorCode.InvalidNetworkConfig, 'invalid field "ipam.ranges": no IP ranges specified');
  const rangeSets = sets.map((s) => s.set);
  checkRangeSetsDisjoint(
    rangeSets,
    sets.map((s) => s.field),
  );
  checkFamiliesAllowed(rangeSets, conf.cniVersion);

  return {
    cniVersion: conf.cniVersion,
    networkName: conf.name,
    storeDir: storeDirOf(conf.name, ipam.dataDir),
    rangeSets,
    requestedIPs: requestedIPs(cmd, conf),
    routes: ipam.routes ?? [],
    resolvConf: ipam.resolvConf,
  };
}

/** Names the field whose ranges take the total over MAX_RANGES, before any range is validated. */
function checkRangeCount(counts: Array<[number, string]>): void {
  const total = counts.reduce((sum, [n]) => sum + n, 0);
  let running = 0;
  for (const [n, field] of counts) {
    running += n;
    if (running > MAX_RANGES) throw invalidField(field, `${total} ranges in all range sets; at most ${MAX_RANGES} are allowed`);
  }
}

/** Before 0.3.0 a result could carry one address of each family only. */
function checkFamiliesAllowed(sets: RangeSet[], cniVersion: string): void {
  if (versionAtLeast(cniVersion, '0.3.0')) return;
  const v4 = sets.filter((s) => s[0].subnet.ip.family === 4).length;
  if (v4 > 1 || sets.length - v4 > 1) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, `cniVersion ${cniVersion} allows one range set per address family`);
  }
}

/** Requested addresses from the `ips` capability, args.cni.ips and CNI_ARGS IP= (comma-separated). */
function requestedIPs(cmd: CmdArgs, conf: z.infer<typeof HostLocalConf>): IP[] {
  checkKnownArgs(cmd.args, ['IP']);
  const sources: Array<{ values: string[]; field: string; code: number }> = [
    { values: conf.runtimeConfig?.ips ?? [], field: 'runtimeConfig.ips', code: ErrorCode.InvalidNetworkConfig },
    { values: conf.args?.cni?.ips ?? [], field: 'args.cni.ips', code: ErrorCode.InvalidNetworkConfig },
    {
      values: (cmd.args.get('IP') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      field: 'CNI_ARGS IP',
      code: ErrorCode.InvalidEnvironment,
    },
  ];
  const ips: IP[] = [];
  const seen = new Set<string>(); // a set, not a scan per address: runtimeConfig.ips can be long
  for (const { values, field, code } of sources) {
    values.forEach((text, i) => {
      // "ip/prefix" is accepted; only the address counts
      const ip = text.includes('/') ? parsePrefix(text)?.ip : parseIP(text);
      if (!ip) throw new CniError(code, `invalid ${field.startsWith('CNI_ARGS') ? field : `field "${field}[${i}]"`}: ${JSON.stringify(text)} is not an IP address`);
      const key = `${ip.family}/${ip.value}`;
      if (!seen.has(key)) ips.push(ip);
      seen.add(key);
    });
  }
  return ips;
}
