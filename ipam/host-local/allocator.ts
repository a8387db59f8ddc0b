import { CniError, ErrorCode } from '../../lib/errors';
import { formatIP, ipEquals, type IP } from '../../lib/ip';
import { candidates, formatRangeSet, rangeFor, rangeSetContains, type Range, type RangeSet } from './range';
import { ownedBy, type Allocation, type Store } from './store';

export interface Allocated {
  ip: IP;
  range: Range;
  rangeSetIndex: number;
}

export interface Attachment {
  containerId: string;
  ifname: string;
}

/**
 * One address per range set for the attachment; all-or-nothing: on any failure the addresses this
 * call reserved are released again. Must run under the store's lock.
 *
 * Unlike the reference plugin, an attachment that already holds an address in a range set gets it
 * back instead of a "duplicate allocation" error, so an ADD retried after a crash converges.
 */
export function allocate(store: Store, rangeSets: RangeSet[], who: Attachment, requested: IP[]): Allocated[] {
  const pending = [...requested];
  const reserved: Allocated[] = [];
  const result: Allocated[] = [];
  const held = store.allocations().filter((a) => a.containerId === who.containerId && a.ifname === who.ifname);
  try {
    rangeSets.forEach((set, index) => {
      const wantedAt = pending.findIndex((ip) => rangeSetContains(set, ip));
      const wanted = wantedAt >= 0 ? pending.splice(wantedAt, 1)[0] : undefined;
      const existing = held.find((a) => rangeSetContains(set, a.ip) && (!wanted || ipEquals(a.ip, wanted)));
      if (existing) {
        result.push({ ip: existing.ip, range: rangeFor(set, existing.ip)!, rangeSetIndex: index });
        return;
      }
      const got = wanted ? reserveRequested(store, set, index, who, wanted) : reserveNext(store, set, index, who);
      reserved.push(got);
      result.push(got);
    });
    if (pending.length) {
      throw new CniError(
        ErrorCode.AddressConflict,
        `requested IP address(es) ${pending.map(formatIP).join(', ')} not in any configured range (${rangeSets.map(formatRangeSet).join('; ')})`,
      );
    }
    return result;
  } catch (err) {
    for (const got of reserved) store.release(got.ip);
    throw err;
  }
}

function reserveRequested(store: Store, set: RangeSet, index: number, who: Attachment, ip: IP): Allocated {
  const range = rangeFor(set, ip)!;
  if (ipEquals(ip, range.gateway)) {
    throw new CniError(ErrorCode.AddressConflict, `requested IP address ${formatIP(ip)} is the gateway of range ${formatRangeSet([range])}`);
  }
  if (!store.reserve(ip, who.containerId, who.ifname, index)) {
    const owner = store.allocations().find((a) => ipEquals(a.ip, ip));
    throw new CniError(
      ErrorCode.AddressConflict,
      `requested IP address ${formatIP(ip)} is already allocated to container ${JSON.stringify(owner?.containerId ?? '?')}`,
    );
  }
  return { ip, range, rangeSetIndex: index };
}

function reserveNext(store: Store, set: RangeSet, index: number, who: Attachment): Allocated {
  for (const { ip, range } of candidates(set, store.lastReserved(index))) {
    if (store.reserve(ip, who.containerId, who.ifname, index)) return { ip, range, rangeSetIndex: index };
  }
  throw new CniError(ErrorCode.AddressExhausted, `no IP addresses available in range set: ${formatRangeSet(set)}`);
}

/** Releases everything the attachment holds (legacy id-only files included); idempotent. */
export function release(store: Store, who: Attachment): Allocation[] {
  const mine = store.allocations().filter((a) => ownedBy(a, who.containerId, who.ifname));
  for (const a of mine) store.release(a.ip);
  return mine;
}

export function allocationsOf(store: Store, who: Attachment): Allocation[] {
  return store.allocations().filter((a) => ownedBy(a, who.containerId, who.ifname));
}

/** Releases every allocation that belongs to none of the `valid` attachments (CNI 1.1 GC). */
export function collectGarbage(store: Store, valid: Attachment[]): Allocation[] {
  const stale = store.allocations().filter((a) => !valid.some((v) => ownedBy(a, v.containerId, v.ifname)));
  for (const a of stale) store.release(a.ip);
  return stale;
}
