import { createHash } from 'node:crypto';
import { bitsOf, type Prefix } from '../../lib/ip';
import {
  ETH_P_ALL,
  ETH_P_IP,
  ETH_P_IPV6,
  type HtbClassSpec,
  type QdiscSpec,
  TC_ACT_OK,
  TC_ACT_STOLEN,
  TC_H_INGRESS,
  TC_H_ROOT,
  TCA_EGRESS_REDIR,
  tcHandle,
  type U32FilterSpec,
  type U32Key,
} from '../../lib/netlink/tc';
import type { Limit, SubnetPolicy } from './config';

/**
 * What the plugin installs, computed as the reference computes it (plugins/meta/bandwidth): the
 * same handles, the same numbers (including its float-to-uint32 conversions), so a host shows the
 * same qdiscs whichever suite set them up. ADD applies these specs; CHECK compares the kernel's
 * listing with them.
 */

const LATENCY_MS = 25;
const USEC_PER_SEC = 1_000_000;

export const ROOT_HANDLE = tcHandle(1, 0);
export const INGRESS_HANDLE = tcHandle(0xffff, 0);

/** Go's uint32(float64) on amd64: truncation to int64, then the low 32 bits (0 when out of int64's range). */
export function goUint32(x: number): number {
  if (!Number.isFinite(x) || x >= 2 ** 63 || x <= -(2 ** 63)) return 0;
  return Number(BigInt.asUintN(32, BigInt(Math.trunc(x))));
}

/** tbf's parameters in the kernel's units: rate in bytes/s, limit in bytes, buffer in ticks. */
export interface TbfParameters {
  rate: number;
  limit: number;
  buffer: number;
}

/** The reference's createTBF: rate and burst in bytes, a 25 ms queue on top of the burst. */
export function tbfParameters(l: Limit, ticksPerUsec: number): TbfParameters {
  const rate = Math.floor(l.rate / 8);
  const burst = Math.floor(l.burst / 8);
  const buffer = goUint32(goUint32((burst * USEC_PER_SEC) / rate) * ticksPerUsec);
  const latency = USEC_PER_SEC * (LATENCY_MS / 1000);
  const limit = (goUint32((rate * latency) / USEC_PER_SEC) + burst) >>> 0;
  return { rate, limit, buffer };
}

/**
 * The ifb device of an attachment, as the reference names it: "bwp" and the start of the hex
 * SHA-512 of network name and container id, 15 characters in all.
 */
export const ifbName = (network: string, containerId: string): string =>
  `bwp${createHash('sha512')
    .update(network + containerId)
    .digest('hex')}`.slice(0, 15);

// --- the subnet policy: an HTB with a shaped and an unshaped class (the reference 1.5.x's layout)

/** Class 1:30 carries the shaped traffic, 1:1 the rest; the default is the class the subnets are not sent to. */
export const SHAPED_CLASS = 0x30;
export const UNSHAPED_CLASS = 0x1;
/** The unshaped class's rate: 100 Gbit/s, as in the reference 1.5.x. */
export const UNCAPPED_RATE = 100_000_000_000 / 8;
const RATE2QUANTUM = 10;

/** What the kernel would pick as quantum (rate / r2q within 1000..200000), given explicitly so it does not warn. */
const quantum = (rate: number) => Math.max(1000, Math.min(200_000, Math.floor(rate / RATE2QUANTUM)));

/** Which side of the packet the subnets are matched on: the far end, so the source of traffic to the container and the destination of traffic from it. */
export type Side = 'src' | 'dst';

/** The qdiscs, classes and filters that shape one link, in the order they are added. */
export interface Shaper {
  qdiscs: QdiscSpec[];
  classes: HtbClassSpec[];
  filters: U32FilterSpec[];
}

/**
 * The root qdisc of a shaped link: a tbf as the current reference installs it; with subnets, an
 * HTB whose default class is the shaped one (unshapedSubnets) or the unshaped one
 * (shapedSubnets), u32 filters sending the subnets to the other class, and explicit fifo queues
 * under both classes (the tbf's byte limit under the shaped one) so that the ifb's txqueuelen of 0
 * does not become a queue of nothing.
 */
export function shaper(ifindex: number, l: Limit, ticksPerUsec: number, policy: SubnetPolicy | undefined, side: Side): Shaper {
  const tbf = tbfParameters(l, ticksPerUsec);
  if (!policy) return { qdiscs: [{ ifindex, handle: ROOT_HANDLE, parent: TC_H_ROOT, options: { kind: 'tbf', ...tbf } }], classes: [], filters: [] };
  const [toClass, defaultClass] = policy.mode === 'shaped' ? [SHAPED_CLASS, UNSHAPED_CLASS] : [UNSHAPED_CLASS, SHAPED_CLASS];
  const uncappedBuffer = goUint32(1000 * ticksPerUsec); // 1 ms at the uncapped rate
  return {
    qdiscs: [
      { ifindex, handle: ROOT_HANDLE, parent: TC_H_ROOT, options: { kind: 'htb', defaultClass, rate2quantum: RATE2QUANTUM } },
      { ifindex, handle: tcHandle(SHAPED_CLASS, 0), parent: tcHandle(1, SHAPED_CLASS), options: { kind: 'bfifo', limit: tbf.limit } },
      { ifindex, handle: tcHandle(0x2, 0), parent: tcHandle(1, UNSHAPED_CLASS), options: { kind: 'pfifo', limit: 1000 } },
    ],
    classes: [
      { ifindex, classid: tcHandle(1, SHAPED_CLASS), parent: ROOT_HANDLE, rate: tbf.rate, ceil: tbf.rate, buffer: tbf.buffer, cbuffer: tbf.buffer, quantum: quantum(tbf.rate) },
      {
        ifindex,
        classid: tcHandle(1, UNSHAPED_CLASS),
        parent: ROOT_HANDLE,
        rate: UNCAPPED_RATE,
        ceil: UNCAPPED_RATE,
        buffer: uncappedBuffer,
        cbuffer: uncappedBuffer,
        quantum: quantum(UNCAPPED_RATE),
      },
    ],
    filters: policy.subnets.map((subnet) => subnetFilter(ifindex, subnet, side, tcHandle(1, toClass))),
  };
}

/** A u32 match of one subnet on the source or destination address; IPv4 at priority 16, IPv6 at 15 (a priority holds one protocol). */
export function subnetFilter(ifindex: number, subnet: Prefix, side: Side, classid: number): U32FilterSpec {
  const v4 = subnet.ip.family === 4;
  const offset = v4 ? (side === 'src' ? 12 : 16) : side === 'src' ? 8 : 24;
  const bits = bitsOf(subnet.ip.family);
  const keys: U32Key[] = [];
  for (let word = 0; word < bits / 32; word++) {
    const shift = BigInt(bits - 32 * (word + 1));
    const maskBits = Math.max(0, Math.min(32, subnet.length - 32 * word));
    if (!maskBits) continue; // a wildcard word needs no key
    const mask = maskBits === 32 ? 0xffffffff : (0xffffffff << (32 - maskBits)) >>> 0;
    const value = Number((subnet.ip.value >> shift) & 0xffffffffn) & mask;
    keys.push({ mask, value: value >>> 0, offset: offset + 4 * word });
  }
  return { ifindex, parent: ROOT_HANDLE, priority: v4 ? 16 : 15, protocol: v4 ? ETH_P_IP : ETH_P_IPV6, classid, keys, actions: [] };
}

// --- egress: the host veth's ingress, redirected to the ifb

export const ingressQdisc = (hostIndex: number): QdiscSpec => ({ ifindex: hostIndex, handle: INGRESS_HANDLE, parent: TC_H_INGRESS, options: { kind: 'ingress' } });

/**
 * Every packet arriving on the host veth (leaving the container) goes to the ifb: a u32 match-all
 * with flowid 1:1 and two mirred redirects, exactly as the reference's netlink library encodes it
 * (its backwards-compatible RedirIndex adds a redirect that steals the packet before the one the
 * plugin asked for, which is never reached).
 */
export const redirectFilter = (hostIndex: number, ifbIndex: number): U32FilterSpec => ({
  ifindex: hostIndex,
  parent: INGRESS_HANDLE,
  priority: 1,
  protocol: ETH_P_ALL,
  classid: tcHandle(1, 1),
  keys: [],
  actions: [
    { kind: 'mirred', verdict: TC_ACT_STOLEN, direction: TCA_EGRESS_REDIR, ifindex: ifbIndex },
    { kind: 'mirred', verdict: TC_ACT_OK, direction: TCA_EGRESS_REDIR, ifindex: ifbIndex },
  ],
});
