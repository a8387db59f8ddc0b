import { formatMac, macToBytes } from '../../lib/netlink';
import type { ClientIdentity, Granted } from './client';
import type { TimerHandle } from './clock';
import { type LeaseOwner, type LeaseRecord, type LeaseTimes, decodeOptions, encodeOptions, leaseTimes } from './lease';
import { decodeMessage } from './message';
import type { LeaseAnswer } from './protocol';

/** A lease the daemon holds: whose it is, what it was asked with, what it got, and the timer of its next renewal. */
export interface HeldLease {
  owner: LeaseOwner;
  identity: ClientIdentity;
  mac: Buffer;
  granted: Granted;
  times: LeaseTimes;
  timer?: TimerHandle;
  stopped: boolean;
}

/** What the plugin is told of a lease. */
export const answerOf = (lease: HeldLease): LeaseAnswer => ({ ack: lease.granted.ackBytes.toString('base64'), expiresAt: lease.times.expiresAt });

/** The lease as the store keeps it. */
export function recordOf(lease: HeldLease): LeaseRecord {
  const { owner, identity, granted } = lease;
  return {
    version: 1,
    ...owner,
    mac: formatMac(lease.mac),
    provide: encodeOptions(identity.provide),
    request: identity.request,
    ack: granted.ackBytes.toString('base64'),
    serverMac: granted.serverMac.toString('hex'),
    at: granted.at,
  };
}

/** The lease a stored record describes, or undefined when its DHCPACK cannot be read. */
export function heldLeaseOf(record: LeaseRecord): HeldLease | undefined {
  const ackBytes = Buffer.from(record.ack, 'base64');
  const ack = decodeMessage(ackBytes);
  if (!ack) return undefined;
  return {
    owner: { clientId: record.clientId, containerId: record.containerId, network: record.network, ifname: record.ifname, netns: record.netns },
    identity: { clientId: record.clientId, provide: decodeOptions(record.provide), request: record.request },
    mac: macToBytes(record.mac),
    granted: { ack, ackBytes, serverMac: Buffer.from(record.serverMac, 'hex'), at: record.at },
    times: leaseTimes(ack, record.at),
    stopped: false,
  };
}
