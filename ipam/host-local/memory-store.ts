import { formatIP, type IP } from '../../lib/ip';
import { ownedBy, type Allocation, type Store } from './store';

/** An in-memory Store for unit tests of the allocator (no disk, no root). */
export class MemoryStore implements Store {
  readonly held = new Map<string, Allocation>();
  readonly last = new Map<number, IP>();
  locked = false;

  withLock<T>(fn: () => T): T {
    if (this.locked) throw new Error('MemoryStore: lock taken twice');
    this.locked = true;
    try {
      return fn();
    } finally {
      this.locked = false;
    }
  }

  reserve(ip: IP, containerId: string, ifname: string, rangeSetIndex: number): boolean {
    this.assertLocked();
    const key = formatIP(ip);
    if (this.held.has(key)) return false;
    this.held.set(key, { ip, containerId, ifname });
    this.last.set(rangeSetIndex, ip);
    return true;
  }

  release(ip: IP): void {
    this.assertLocked();
    this.held.delete(formatIP(ip));
  }

  lastReserved(rangeSetIndex: number): IP | undefined {
    this.assertLocked();
    return this.last.get(rangeSetIndex);
  }

  reservedAddresses(): IP[] {
    this.assertLocked();
    return [...this.held.values()].map((a) => a.ip);
  }

  heldBy(containerId: string, ifname: string): Allocation[] {
    return this.allocations().filter((a) => ownedBy(a, containerId, ifname));
  }

  allocations(): Allocation[] {
    this.assertLocked();
    return [...this.held.values()];
  }

  private assertLocked(): void {
    if (!this.locked) throw new Error('MemoryStore: used without the lock');
  }
}
