import { describe, expect, it } from 'vitest';
import type { CniError } from '../../lib/errors';
import { formatIP, parseIP } from '../../lib/ip';
import { allocate, collectGarbage, release } from './allocator';
import { MemoryStore } from './memory-store';
import { canonicalizeRangeSet } from './range';

const ip = (s: string) => parseIP(s)!;
const v4 = canonicalizeRangeSet([{ subnet: '10.0.0.0/29' }], 'v4'); // 5 usable
const v6 = canonicalizeRangeSet([{ subnet: 'fd00::/124' }], 'v6');
const a = { containerId: 'a', ifname: 'eth0' };
const b = { containerId: 'b', ifname: 'eth0' };

const alloc = (store: MemoryStore, who = a, sets = [v4], requested: string[] = []) =>
  store.withLock(() => allocate(store, sets, who, requested.map(ip))).map((x) => formatIP(x.ip));

const codeOf = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as CniError).code;
  }
  return undefined;
};

describe('allocate', () => {
  it('gives one address per range set (dual stack)', () => {
    const store = new MemoryStore();
    expect(alloc(store, a, [v4, v6])).toEqual(['10.0.0.2', 'fd00::2']);
  });

  it('hands out addresses round-robin and never the network, gateway or broadcast', () => {
    const store = new MemoryStore();
    const got = ['c1', 'c2', 'c3', 'c4', 'c5'].map((id) => alloc(store, { containerId: id, ifname: 'eth0' })[0]);
    expect(got).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    store.withLock(() => release(store, { containerId: 'c2', ifname: 'eth0' }));
    // round-robin continues after the last reserved (.6), wraps, finds the freed .3
    expect(alloc(store, { containerId: 'c6', ifname: 'eth0' })).toEqual(['10.0.0.3']);
  });

  it('fails with "no IP addresses available" (code 100) when the range is full, reserving nothing', () => {
    const store = new MemoryStore();
    for (let i = 0; i < 5; i++) alloc(store, { containerId: `c${i}`, ifname: 'eth0' });
    const err = (() => {
      try {
        alloc(store, b);
      } catch (e) {
        return e as CniError;
      }
    })();
    expect(err?.code).toBe(100);
    expect(err?.message).toContain('no IP addresses available in range set: 10.0.0.1-10.0.0.6');
  });

  it('tries only free addresses: a taken one costs no reserve() call, a full range none at all', () => {
    const store = new MemoryStore();
    for (let i = 0; i < 4; i++) alloc(store, { containerId: `c${i}`, ifname: 'eth0' }); // .2-.5 taken
    store.withLock(() => release(store, { containerId: 'c1', ifname: 'eth0' })); // frees .3
    const tried: string[] = [];
    const reserve = store.reserve.bind(store);
    store.reserve = (ipAddr, ...rest) => (tried.push(formatIP(ipAddr)), reserve(ipAddr, ...rest));
    expect(alloc(store, b)).toEqual(['10.0.0.6']);
    expect(alloc(store, { containerId: 'd', ifname: 'eth0' })).toEqual(['10.0.0.3']);
    expect(codeOf(() => alloc(store, { containerId: 'e', ifname: 'eth0' }))).toBe(100);
    expect(tried).toEqual(['10.0.0.6', '10.0.0.3']);
  });

  it('skips an address reserve() refuses although the listing showed it free', () => {
    const store = new MemoryStore();
    const reserve = store.reserve.bind(store);
    let raced = false;
    store.reserve = (ipAddr, ...rest) => {
      if (!raced) {
        raced = true;
        reserve(ipAddr, 'other', 'eth0', 0); // someone took it between the listing and the create
      }
      return reserve(ipAddr, ...rest);
    };
    expect(alloc(store, a)).toEqual(['10.0.0.3']);
  });

  it('rolls back the first range set when the second fails', () => {
    const store = new MemoryStore();
    const tiny6 = canonicalizeRangeSet([{ subnet: 'fd00::/126' }], 'v6'); // ::1 gateway, ::2, ::3
    alloc(store, { containerId: 'x', ifname: 'eth0' }, [tiny6]);
    alloc(store, { containerId: 'y', ifname: 'eth0' }, [tiny6]);
    expect(codeOf(() => alloc(store, a, [v4, tiny6]))).toBe(100);
    expect(store.withLock(() => store.heldBy('a', 'eth0'))).toEqual([]);
  });

  it('honours a requested address and refuses one that is taken, the gateway, or outside every range', () => {
    const store = new MemoryStore();
    expect(alloc(store, a, [v4], ['10.0.0.5'])).toEqual(['10.0.0.5']);
    expect(codeOf(() => alloc(store, b, [v4], ['10.0.0.5']))).toBe(101);
    expect(codeOf(() => alloc(store, b, [v4], ['10.0.0.1']))).toBe(101);
    expect(codeOf(() => alloc(store, b, [v4], ['10.7.0.1']))).toBe(101);
    expect(store.withLock(() => store.heldBy('b', 'eth0'))).toEqual([]);
  });

  it('returns the held address when the same attachment adds again (retry after a crash)', () => {
    const store = new MemoryStore();
    const first = alloc(store, a);
    expect(alloc(store, a)).toEqual(first);
    expect(store.held.size).toBe(1);
  });

  it('never gives two attachments the same address', () => {
    const store = new MemoryStore();
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) seen.add(alloc(store, { containerId: 'c', ifname: `eth${i}` })[0]);
    expect(seen.size).toBe(5);
  });
});

describe('release and GC', () => {
  it('releases by container id + ifname only, and is idempotent', () => {
    const store = new MemoryStore();
    alloc(store, a);
    alloc(store, { containerId: 'a', ifname: 'eth1' });
    expect(store.withLock(() => release(store, a)).map((x) => formatIP(x.ip))).toEqual(['10.0.0.2']);
    expect(store.withLock(() => release(store, a))).toEqual([]);
    expect(store.held.size).toBe(1);
  });

  it('releases legacy id-only allocations', () => {
    const store = new MemoryStore();
    store.held.set('10.0.0.4', { ip: ip('10.0.0.4'), containerId: 'a' });
    expect(store.withLock(() => release(store, a))).toHaveLength(1);
  });

  it('GC keeps valid attachments and drops the rest', () => {
    const store = new MemoryStore();
    alloc(store, a);
    alloc(store, b);
    store.held.set('10.0.0.6', { ip: ip('10.0.0.6'), containerId: 'b' });
    const removed = store.withLock(() => collectGarbage(store, [b]));
    expect(removed.map((x) => x.containerId)).toEqual(['a']);
    expect([...store.held.keys()].sort()).toEqual(['10.0.0.3', '10.0.0.6']);
  });
});
