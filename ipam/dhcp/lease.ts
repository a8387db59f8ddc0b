import * as z from 'zod/mini';
import { type DhcpMessage, Option, seconds } from './message';

/** The reference's lease time when a DHCPACK has none (option 51). */
export const DEFAULT_LEASE_SECONDS = 3600;

export interface LeaseTimes {
  /** T1: start renewing with the server that granted the lease. */
  renewAt: number;
  /** T2: start rebinding with any server. */
  rebindAt: number;
  expiresAt: number;
}

/**
 * The lease's times (ms since the epoch) from a DHCPACK received at `at`: lease time from option
 * 51 (an hour without), T2 from option 59 unless absent or past the lease (then 85 % of it), T1
 * from option 58 unless absent or past T2 (then half the lease), as RFC 2131 4.4.5 and the
 * reference (1.1.1's checks, the current defaults).
 */
export function leaseTimes(ack: DhcpMessage, at: number): LeaseTimes {
  const lease = seconds(ack.options.get(Option.LEASE_TIME)) ?? DEFAULT_LEASE_SECONDS;
  let rebind = seconds(ack.options.get(Option.REBINDING_TIME));
  if (rebind === undefined || rebind > lease) rebind = (lease * 85) / 100;
  let renew = seconds(ack.options.get(Option.RENEWAL_TIME));
  if (renew === undefined || renew > rebind) renew = lease / 2;
  return { renewAt: at + renew * 1000, rebindAt: at + rebind * 1000, expiresAt: at + lease * 1000 };
}

export type Step = { wait: number } | { renew: true } | { rebind: true } | { expired: true };

/** What a lease needs at `now`: nothing until T1 (wait that long), renewing until T2, rebinding until it expires. */
export function nextStep(times: LeaseTimes, now: number): Step {
  if (now >= times.expiresAt) return { expired: true };
  if (now >= times.rebindAt) return { rebind: true };
  if (now >= times.renewAt) return { renew: true };
  return { wait: times.renewAt - now };
}

/** RFC 2131 4.4.5: after an unanswered try, wait half the time left until `until`, at least `minimum`, never past it. */
export function retryDelay(now: number, until: number, minimum: number): number {
  const left = until - now;
  return Math.max(0, Math.min(left, Math.max(minimum, left / 2)));
}

/** What the daemon keeps of a lease on disk (one JSON file per lease), enough to go on renewing it after a restart. */
export const LeaseRecord = z.object({
  version: z.literal(1),
  clientId: z.string(),
  containerId: z.string(),
  network: z.string(),
  ifname: z.string(),
  /** As the plugin sent it (without -hostprefix). */
  netns: z.string(),
  mac: z.string(),
  provide: z.array(z.tuple([z.int(), z.string()])),
  request: z.array(z.int()),
  ack: z.string(),
  serverMac: z.string(),
  at: z.number(),
});
export type LeaseRecord = z.infer<typeof LeaseRecord>;

/** Whose lease it is: a container's interface on a network, with the DHCP client id derived from them. */
export interface LeaseOwner {
  clientId: string;
  containerId: string;
  network: string;
  ifname: string;
  /** As the plugin sent it (without -hostprefix). */
  netns: string;
}

export const encodeOptions = (options: Map<number, Buffer>): Array<[number, string]> => [...options].map(([code, value]) => [code, value.toString('base64')]);
export const decodeOptions = (list: Array<[number, string]>): Map<number, Buffer> => new Map(list.map(([code, value]) => [code, Buffer.from(value, 'base64')]));
