import * as z from 'zod/mini';
import { invalidField } from '../../lib/errors';
import { networkAddress, parsePrefix, type Prefix } from '../../lib/ip';
import type { CmdArgs } from '../../lib/skel';
import { NetConf, parseWith } from '../../lib/types';

const opt = z.optional;
const bits = opt(z.int().check(z.minimum(0)));
const subnets = opt(z.array(z.string()));

/** The reference's BandwidthEntry; the subnet lists are those of the reference 1.5.x (see docs/bandwidth.md). */
const Entry = {
  ingressRate: bits,
  ingressBurst: bits,
  egressRate: bits,
  egressBurst: bits,
  shapedSubnets: subnets,
  unshapedSubnets: subnets,
};
const RATE_FIELDS = ['ingressRate', 'ingressBurst', 'egressRate', 'egressBurst'] as const;

const BandwidthConf = z.extend(NetConf, {
  ...Entry,
  runtimeConfig: opt(z.looseObject({ bandwidth: opt(z.nullable(z.looseObject(Entry))) })),
});
type Entry = { [K in keyof typeof Entry]?: K extends `${string}Subnets` ? string[] : number };

/** One direction's limit as configured: bits/s and bits. */
export interface Limit {
  rate: number;
  burst: number;
}

/**
 * Which traffic is shaped when subnets are given: with "shaped", only traffic to/from these
 * subnets; with "unshaped", everything but.
 */
export interface SubnetPolicy {
  mode: 'shaped' | 'unshaped';
  subnets: Prefix[];
}

export interface BandwidthConfig {
  cniVersion: string;
  networkName: string;
  /** Traffic to the container (shaped on the host end of its veth). */
  ingress?: Limit;
  /** Traffic from the container (redirected to an ifb and shaped there). */
  egress?: Limit;
  subnets?: SubnetPolicy;
}

/** The largest burst the reference accepts: burst/8 must stay below 2^32-1 bytes ("4GB"). */
export const MAX_BURST_BITS = 0xffffffff * 8 - 1;

/**
 * The reference's choice of limits: the config's own fields when it names any of the four rates
 * and bursts, else the `bandwidth` capability (runtimeConfig.bandwidth). Subnet lists come from
 * runtimeConfig.bandwidth when it names one, else from the config's own fields.
 */
export function parseConfig(cmd: CmdArgs): BandwidthConfig {
  const conf = parseWith(BandwidthConf, cmd.config, 'bandwidth config');
  const runtime: Entry | undefined = conf.runtimeConfig?.bandwidth ?? undefined;
  const own = RATE_FIELDS.some((f) => conf[f] !== undefined);
  const [limits, limitsPrefix] = own || !runtime ? [conf as Entry, ''] : [runtime, 'runtimeConfig.bandwidth.'];
  const namesSubnets = (e: Entry | undefined) => e?.shapedSubnets !== undefined || e?.unshapedSubnets !== undefined;
  const [subnetEntry, subnetPrefix] = namesSubnets(runtime) ? [runtime!, 'runtimeConfig.bandwidth.'] : [conf as Entry, ''];
  return {
    cniVersion: conf.cniVersion,
    networkName: conf.name,
    ingress: limit(limits, 'ingress', limitsPrefix),
    egress: limit(limits, 'egress', limitsPrefix),
    subnets: subnetPolicy(subnetEntry, subnetPrefix),
  };
}

/** Rate and burst both set or both zero (the reference's rule), a burst under 4 GiB, and at least a byte of each. */
function limit(entry: Entry, direction: 'ingress' | 'egress', prefix: string): Limit | undefined {
  const rate = entry[`${direction}Rate`] ?? 0;
  const burst = entry[`${direction}Burst`] ?? 0;
  const [rateField, burstField] = [`${prefix}${direction}Rate`, `${prefix}${direction}Burst`];
  if (rate === 0 && burst === 0) return undefined;
  if (burst === 0) throw invalidField(burstField, `must be set when ${rateField} is (${rate} bits/s): set both or neither`);
  if (rate === 0) throw invalidField(rateField, `must be set when ${burstField} is (${burst} bits): set both or neither`);
  if (burst > MAX_BURST_BITS) throw invalidField(burstField, `${burst} bits is more than 4 GiB: at most ${MAX_BURST_BITS}`);
  // the kernel counts bytes: below 8 the rate or the bucket would be 0 and the qdisc refused
  if (rate < 8) throw invalidField(rateField, `${rate} bits/s is less than one byte per second: at least 8`);
  if (burst < 8) throw invalidField(burstField, `${burst} bits is less than one byte: at least 8`);
  return { rate, burst };
}

function subnetPolicy(entry: Entry, prefix: string): SubnetPolicy | undefined {
  const shaped = entry.shapedSubnets ?? [];
  const unshaped = entry.unshapedSubnets ?? [];
  if (shaped.length && unshaped.length) {
    throw invalidField(`${prefix}shapedSubnets`, `cannot be used together with ${prefix}unshapedSubnets: give the subnets to shape, or those not to shape`);
  }
  const [mode, texts] = shaped.length ? (['shaped', shaped] as const) : (['unshaped', unshaped] as const);
  if (!texts.length) return undefined;
  const subnets = texts.map((text, i) => {
    const p = parsePrefix(text);
    if (!p) throw invalidField(`${prefix}${mode}Subnets[${i}]`, `${JSON.stringify(text)} is not a subnet (address/length)`);
    return { ip: networkAddress(p), length: p.length };
  });
  return { mode, subnets };
}
