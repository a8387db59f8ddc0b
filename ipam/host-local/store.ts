import type { IP } from '../../lib/ip';

/** Who holds an address. Files written by old plugins hold only the container id. */
export interface Allocation {
  ip: IP;
  containerId: string;
  ifname?: string;
}

/**
 * The allocator's only view of persistence. Every method except withLock must be called with the
 * lock held; the disk store is the reference plugin's layout, the memory store serves unit tests.
 */
export interface Store {
  withLock<T>(fn: () => T): T;
  /** False when the address is already taken. */
  reserve(ip: IP, containerId: string, ifname: string, rangeSetIndex: number): boolean;
  release(ip: IP): void;
  lastReserved(rangeSetIndex: number): IP | undefined;
  /** Every reserved address, without reading who holds it: the disk store lists its directory once. */
  reservedAddresses(): IP[];
  /** What one attachment holds (legacy id-only records included, as in ownedBy). */
  heldBy(containerId: string, ifname: string): Allocation[];
  /** Every reservation with its holder; the disk store reads every record. */
  allocations(): Allocation[];
}

/** The attachment an allocation belongs to, including legacy id-only files (they match any ifname). */
export function ownedBy(allocation: Allocation, containerId: string, ifname: string): boolean {
  return allocation.containerId === containerId && (allocation.ifname === undefined || allocation.ifname === ifname);
}
