import { CniError, ErrorCode, NetnsNotFoundError } from '../../lib/errors';
import { log } from '../../lib/log';
import { formatMac } from '../../lib/netlink';
import type { ClientIdentity, Granted, RenewOutcome } from './client';
import { type Clock, systemClock } from './clock';
import { type HeldLease, answerOf, heldLeaseOf, recordOf } from './held-lease';
import { KeyedQueue } from './keyed-queue';
import { type LeaseOwner, type LeaseRecord, leaseTimes, nextStep, retryDelay } from './lease';
import type { LeaseIO } from './lease-io';
import type { ClientLink } from './link';
import { formatIPv4 } from './message';
import type { LeaseAnswer } from './protocol';
import { leaseResult } from './result';
import type { LeaseStore } from './store';

/** setTimeout's longest delay is 2^31-1 ms (24.8 days); longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The shortest pause between two unanswered renewal (or rebinding) tries. */
export const RENEW_RETRY_MIN_MS = 10_000;

/**
 * The leases the daemon holds, one per owner: acquired on ADD, renewed at T1 with the server that
 * granted them, rebound at T2 with any, tried anew at expiry (RFC 2131 4.4.5), released on DEL and
 * GC, saved to the store at every grant. The requests and timers of one lease run one at a time,
 * in order.
 */
export class LeaseKeeper {
  private readonly leases = new Map<string, HeldLease>();
  private readonly queue = new KeyedQueue();
  private stopping = false;

  constructor(
    private readonly store: Pick<LeaseStore, 'save' | 'remove'>,
    private readonly io: LeaseIO,
    private readonly clock: Clock = systemClock,
  ) {}

  get size(): number {
    return this.leases.size;
  }

  /**
   * The owner's lease: the one held when it is still valid on the same interface (a repeated ADD,
   * or one after a daemon restart), else a new one.
   */
  add(owner: LeaseOwner, identity: ClientIdentity, signal: AbortSignal): Promise<LeaseAnswer> {
    return this.queue.run(owner.clientId, async () => {
      const existing = this.leases.get(owner.clientId);
      if (existing) {
        const link = await this.io.findLink(owner);
        const same = link?.mac === formatMac(existing.mac) && existing.owner.netns === owner.netns && this.clock.now() < existing.times.expiresAt;
        if (same) {
          log.info('lease already held', { clientId: owner.clientId, address: formatIPv4(existing.granted.ack.yiaddr) });
          return answerOf(existing);
        }
        await this.drop(existing, 'replaced: the interface or namespace changed, or the lease expired', true);
      }
      const link = await this.io.prepareLink(owner);
      log.info('acquiring lease', { clientId: owner.clientId, netns: owner.netns, ifname: owner.ifname });
      const granted = await this.io.acquire(link, identity, { signal, log: (msg, fields) => log.info(msg, { clientId: owner.clientId, ...fields }) });
      try {
        leaseResult(granted.ack, '1.1.0');
      } catch (err) {
        // a lease we cannot use goes back to the server
        this.io.release(link, identity, granted);
        throw err;
      }
      const lease: HeldLease = { owner, identity, mac: link.mac, granted, times: leaseTimes(granted.ack, granted.at), stopped: false };
      this.leases.set(owner.clientId, lease);
      this.store.save(recordOf(lease));
      log.info('lease acquired', { clientId: owner.clientId, address: formatIPv4(granted.ack.yiaddr), expires: new Date(lease.times.expiresAt).toISOString() });
      this.schedule(lease);
      return answerOf(lease);
    });
  }

  /** The owner's lease when it is held, valid, and its interface still has the lease's MAC. */
  check(owner: LeaseOwner): Promise<LeaseAnswer> {
    return this.queue.run(owner.clientId, async () => {
      const lease = this.leases.get(owner.clientId);
      const what = `container ${JSON.stringify(owner.containerId)} interface ${JSON.stringify(owner.ifname)} of network ${JSON.stringify(owner.network)}`;
      if (!lease || this.clock.now() >= lease.times.expiresAt) throw new CniError(ErrorCode.AllocationMissing, `dhcp: the daemon holds no lease for ${what}`);
      const link = await this.io.findLink(owner);
      if (!link || link.mac !== formatMac(lease.mac)) {
        throw new CniError(ErrorCode.CheckFailed, `dhcp: the lease of ${what} is for ${formatMac(lease.mac)}, and the interface ${link ? `has ${link.mac}` : 'is gone'}`);
      }
      return answerOf(lease);
    });
  }

  /** Releases the lease of `clientId`, if one is held. */
  release(clientId: string): Promise<void> {
    return this.queue.run(clientId, async () => {
      const lease = this.leases.get(clientId);
      if (lease) await this.drop(lease, 'released', true);
    });
  }

  /** Releases the leases of `network` whose owner is not in `valid`; returns their client ids. */
  async collectGarbage(network: string, valid: Array<{ containerId: string; ifname: string }>): Promise<string[]> {
    const keep = new Set(valid.map((a) => `${a.containerId}\0${a.ifname}`));
    const stale = [...this.leases.values()].filter((l) => l.owner.network === network && !keep.has(`${l.owner.containerId}\0${l.owner.ifname}`));
    const released: string[] = [];
    for (const lease of stale) {
      await this.queue.run(lease.owner.clientId, async () => {
        if (this.leases.get(lease.owner.clientId) !== lease) return;
        await this.drop(lease, 'garbage collected', true);
        released.push(lease.owner.clientId);
      });
    }
    return released;
  }

  /** A lease from the store after a restart: kept when its interface is still there, renewed as due. */
  restore(record: LeaseRecord): Promise<void> {
    return this.queue.run(record.clientId, async () => {
      const lease = heldLeaseOf(record);
      if (!lease) {
        log.warn('dropping a stored lease whose DHCPACK cannot be read', { clientId: record.clientId });
        this.store.remove(record.clientId);
        return;
      }
      let link: ClientLink | undefined;
      try {
        link = await this.io.currentLink(lease.owner, lease.mac);
      } catch (err) {
        log.warn('cannot look at the interface of a stored lease; keeping it', { clientId: record.clientId, error: (err as Error).message });
        this.leases.set(record.clientId, lease);
        this.schedule(lease, RENEW_RETRY_MIN_MS);
        return;
      }
      if (!link) {
        log.info('dropping a stored lease: its interface or namespace is gone', { clientId: record.clientId, netns: record.netns, ifname: record.ifname });
        this.store.remove(record.clientId);
        return;
      }
      this.leases.set(record.clientId, lease);
      log.info('lease restored', { clientId: record.clientId, address: formatIPv4(lease.granted.ack.yiaddr), expires: new Date(lease.times.expiresAt).toISOString() });
      this.schedule(lease);
    });
  }

  /** Stops every timer; the leases stay in the store (and with the servers) for the next daemon. */
  stop(): void {
    this.stopping = true;
    for (const lease of this.leases.values()) this.stopTimer(lease);
  }

  /** Forgets a lease (timer, memory, store) and, when asked and the interface is still there, releases it. */
  private async drop(lease: HeldLease, why: string, sendRelease: boolean): Promise<void> {
    this.stopTimer(lease);
    lease.stopped = true;
    if (this.leases.get(lease.owner.clientId) === lease) this.leases.delete(lease.owner.clientId);
    this.store.remove(lease.owner.clientId);
    log.info(`lease ${why}`, { clientId: lease.owner.clientId, address: formatIPv4(lease.granted.ack.yiaddr) });
    if (!sendRelease) return;
    try {
      const link = await this.io.currentLink(lease.owner, lease.mac);
      if (link) this.io.release(link, lease.identity, lease.granted);
    } catch (err) {
      if (!(err instanceof NetnsNotFoundError)) log.warn('could not send DHCPRELEASE', { clientId: lease.owner.clientId, error: (err as Error).message });
    }
  }

  // ---- renewal ----

  private stopTimer(lease: HeldLease): void {
    if (lease.timer !== undefined) this.clock.clearTimeout(lease.timer);
    lease.timer = undefined;
  }

  /** Wakes the lease up after `delay`, or when its next step (T1, T2, expiry) is due. */
  private schedule(lease: HeldLease, delay?: number): void {
    this.stopTimer(lease);
    if (lease.stopped || this.stopping) return;
    const step = nextStep(lease.times, this.clock.now());
    const ms = delay ?? ('wait' in step ? step.wait : 0);
    lease.timer = this.clock.setTimeout(() => void this.queue.run(lease.owner.clientId, () => this.maintain(lease)), Math.min(ms, MAX_TIMER_MS));
  }

  /** T1, T2 and expiry (RFC 2131 4.4.5): renew, rebind, or try a new lease (asking for the same address). */
  private async maintain(lease: HeldLease): Promise<void> {
    if (lease.stopped || this.stopping) return;
    const step = nextStep(lease.times, this.clock.now());
    if ('wait' in step) {
      this.schedule(lease);
      return;
    }
    const id = { clientId: lease.owner.clientId };
    let link: ClientLink | undefined;
    try {
      link = await this.io.currentLink(lease.owner, lease.mac);
    } catch (err) {
      log.warn('cannot look at the interface; trying again later', { ...id, error: (err as Error).message });
      this.schedule(lease, RENEW_RETRY_MIN_MS);
      return;
    }
    if (!link) {
      log.info('the interface or its namespace is gone: forgetting the lease', { ...id, netns: lease.owner.netns, ifname: lease.owner.ifname });
      await this.drop(lease, 'forgotten', false);
      return;
    }
    if ('expired' in step) {
      await this.reacquire(lease, link, 'expired');
      return;
    }
    const mode = 'renew' in step ? 'renew' : 'rebind';
    log.info(mode === 'renew' ? 'renewing lease' : 'rebinding lease', id);
    let outcome: RenewOutcome;
    try {
      outcome = await this.io.renew(link, lease.identity, lease.granted, mode);
    } catch (err) {
      log.warn(`${mode} failed`, { ...id, error: (err as Error).message });
      outcome = { none: true };
    }
    if ('granted' in outcome) {
      this.grant(lease, outcome.granted);
      log.info(mode === 'renew' ? 'lease renewed' : 'lease rebound', { ...id, expires: new Date(lease.times.expiresAt).toISOString() });
      this.schedule(lease);
    } else if ('nak' in outcome) {
      log.warn(`${mode}: ${outcome.nak}`, id);
      await this.reacquire(lease, link, 'refused');
    } else {
      const until = mode === 'renew' ? lease.times.rebindAt : lease.times.expiresAt;
      log.info(`no answer to the ${mode === 'renew' ? 'renewal' : 'rebinding'}; trying again`, id);
      this.schedule(lease, retryDelay(this.clock.now(), until, RENEW_RETRY_MIN_MS));
    }
  }

  private grant(lease: HeldLease, granted: Granted): void {
    lease.granted = granted;
    lease.times = leaseTimes(granted.ack, granted.at);
    this.store.save(recordOf(lease));
  }

  /**
   * The lease expired or was refused: the address may no longer be used. One acquisition asking
   * for it again; when that fails, the interface goes down and the lease is forgotten, as the
   * reference does at expiry.
   */
  private async reacquire(lease: HeldLease, link: ClientLink, why: string): Promise<void> {
    const id = { clientId: lease.owner.clientId };
    const before = lease.granted.ack.yiaddr;
    log.warn(`lease ${why}: asking for a new one`, { ...id, address: formatIPv4(before) });
    try {
      const granted = await this.io.acquire(link, lease.identity);
      leaseResult(granted.ack, '1.1.0');
      if (lease.stopped) {
        this.io.release(link, lease.identity, granted);
        return;
      }
      if (!granted.ack.yiaddr.equals(before))
        log.warn('the new lease has another address; the container still has the old one', { ...id, old: formatIPv4(before), new: formatIPv4(granted.ack.yiaddr) });
      this.grant(lease, granted);
      this.schedule(lease);
    } catch (err) {
      if (lease.stopped) return;
      log.warn('no new lease: taking the interface down', { ...id, ifname: lease.owner.ifname, error: (err as Error).message });
      await this.io.takeLinkDown(link).catch((e: Error) => log.warn('cannot take the interface down', { ...id, error: e.message }));
      await this.drop(lease, 'lost', false);
    }
  }
}
