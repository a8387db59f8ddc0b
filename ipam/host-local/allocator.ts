import { CniError, ErrorCode } from '../../lib/errors';
import { formatIP, ipEquals, type IP } from '../../lib/ip';
import { candidates, formatRangeSet, rangeFor, rangeSetContains, type Range, type RangeSet } from './range';
import { ownedBy, type Allocation, type Store } from './store';

export interface Allocated {
  ip: IP;
  range: Range;
  rangeSetIndex: number;
}

export interface ReservationOwner {
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
export function allocate(store: Store, rangeSets: RangeSet[], who: ReservationOwner, requested: IP[]): Allocated[] {
  const pending = [...requested];
  const reserved: Allocated[] = [];
  const result: Allocated[] = [];
  // legacy id-only records are released by DEL but not handed back here
  const held = store.heldBy(who.containerId, who.ifname).filter((a) => a.ifname === who.ifname);
  let taken: Set<bigint> | undefined;
  try {
    rangeSets.forEach((set, index) => {
      const wantedAt = pending.findIndex((ip) => rangeSetContains(set, ip));
      const wanted = wantedAt >= 0 ? pending.splice(wantedAt, 1)[0] : undefined;
      const existing = held.find((a) => rangeSetContains(set, a.ip) && (!wanted || ipEquals(a.ip, wanted)));
      if (existing) {
        result.push({ ip: existing.ip, range: rangeFor(set, existing.ip)!, rangeSetIndex: index });
        return;
      }
      const got = wanted ? reserveRequested(store, set, index, who, wanted) : reserveNext(store, set, index, who, (taken ??= new Set(store.reservedAddresses().map(addressKey))));
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

function reserveRequested(store: Store, set: RangeSet, index: number, who: ReservationOwner, ip: IP): Allocated {
  const range = rangeFor(set, ip)!;
  if (ipEquals(ip, range.gateway)) {
    throw new CniError(ErrorCode.AddressConflict, `requested IP address ${formatIP(ip)} is the gateway of range ${formatRangeSet([range])}`);
  }
  if (!store.reserve(ip, who.containerId, who.ifname, index)) {
    const owner = store.allocations().find((a) => ipEquals(a.ip, ip));
    throw new CniError(ErrorCode.AddressConflict, `requested IP address ${formatIP(ip)} is already allocated to container ${JSON.stringify(owner?.containerId ?? '?')}`);
  }
  return { ip, range, rangeSetIndex: index };
}

/**
 * The first free candidate. Taken addresses come from one listing of the store, so trying one costs
 * a set lookup rather than a write; reserve() (an exclusive create) stays what decides, so a free
 * candidate taken all the same is skipped too.
 */
function reserveNext(store: Store, set: RangeSet, index: number, who: ReservationOwner, taken: Set<bigint>): Allocated {
  for (const { ip, range } of candidates(set, store.lastReserved(index))) {
    const key = addressKey(ip);
    if (taken.has(key)) continue;
    taken.add(key);
    if (store.reserve(ip, who.containerId, who.ifname, index)) return { ip, range, rangeSetIndex: index };
  }
  throw new CniError(ErrorCode.AddressExhausted, `no IP addresses available in range set: ${formatRangeSet(set)}`);
}

/** One key space per family, so a candidate is looked up without formatting it. */
const addressKey = (ip: IP): bigint => (ip.family === 6 ? ip.value | (1n << 128n) : ip.value);

/** Releases everything the attachment holds (legacy id-only files included); idempotent. */
export function release(store: Store, who: ReservationOwner): Allocation[] {
  const mine = store.heldBy(who.containerId, who.ifname);
  for (const a of mine) store.release(a.ip);
  return mine;
}

/** Releases every allocation that belongs to none of the `valid` attachments (CNI 1.1 GC). */
export function collectGarbage(store: Store, valid: ReservationOwner[]): Allocation[] {
  const stale = store.allocations().filter((a) => !valid.some((v) => ownedBy(a, v.containerId, v.ifname)));
  for (const a of stale) store.release(a.ip);
  return stale;
}
