import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatIP, parseIP } from '../../lib/ip';
import { DiskStore } from './disk-store';
import { ownedBy } from './store';

const ip = (s: string) => parseIP(s)!;
let dir: string;
let store: DiskStore;

beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'cnit-store-')), 'net');
  store = new DiskStore(dir);
});
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

const names = () => readdirSync(dir).sort();

describe('DiskStore (the reference layout)', () => {
  it('reserves with an exclusive create in the reference format and leaves no temporary', () => {
    store.withLock(() => {
      expect(store.reserve(ip('10.0.0.2'), 'ctr', 'eth0', 0)).toBe(true);
      expect(store.reserve(ip('fd00::2'), 'ctr', 'eth0', 1)).toBe(true);
      expect(store.reserve(ip('10.0.0.2'), 'other', 'eth0', 0)).toBe(false);
    });
    expect(names()).toEqual(['10.0.0.2', 'fd00::2', 'last_reserved_ip.0', 'last_reserved_ip.1', 'lock']);
    expect(readFileSync(join(dir, '10.0.0.2'), 'utf8')).toBe('ctr\r\neth0');
    expect(readFileSync(join(dir, 'last_reserved_ip.0'), 'utf8')).toBe('10.0.0.2');
    expect(readFileSync(join(dir, 'last_reserved_ip.1'), 'utf8')).toBe('fd00::2');
  });

  it('takes an emptied last_reserved_ip (a power cut before it reached the disk: it is not synced) as no hint', () => {
    store.withLock(() => store.reserve(ip('10.0.0.7'), 'ctr', 'eth0', 0));
    writeFileSync(join(dir, 'last_reserved_ip.0'), '');
    expect(store.lastReserved(0)).toBeUndefined();
    expect(store.withLock(() => store.reserve(ip('10.0.0.8'), 'ctr2', 'eth0', 0))).toBe(true);
    expect(store.lastReserved(0)).toEqual(ip('10.0.0.8'));
  });

  it('removes temporaries left by a killed writer when the lock is taken', () => {
    writeFileSync(join(dir, '.tmp-123-abc'), 'half');
    writeFileSync(join(dir, '.tmp-last_reserved_ip.0'), '10.0');
    store.withLock(() => undefined);
    expect(names()).toEqual(['lock']);
  });

  it('lists reserved addresses from file names alone', () => {
    writeFileSync(join(dir, '10.0.0.7'), 'x\r\neth0');
    writeFileSync(join(dir, 'fd00::7'), '');
    writeFileSync(join(dir, 'last_reserved_ip.0'), '10.0.0.7');
    store.withLock(() => expect(store.reservedAddresses().map(formatIP).sort()).toEqual(['10.0.0.7', 'fd00::7']));
  });

  it('heldBy finds exactly what allocations() + ownedBy find, reading records the same way', () => {
    const records: Record<string, string> = {
      '10.0.0.2': 'ctr\r\neth0',
      '10.0.0.3': 'ctr\r\neth1',
      '10.0.0.4': 'ctr', // legacy: id only, any ifname
      '10.0.0.5': ' ctr \r\n eth0 \n', // whitespace the reference trims
      '10.0.0.6': 'ctr2\r\neth0', // the id as a prefix of another
      '10.0.0.7': 'xctr\r\neth0',
      '10.0.0.8': 'eth0\r\nctr', // the id in the ifname's place
      '10.0.0.9': `${'c'.repeat(5000)}ctr\r\neth0`, // longer than the read buffer
      'fd00::2': 'ctr\r\neth0',
      'last_reserved_ip.0': 'ctr',
    };
    for (const [name, content] of Object.entries(records)) writeFileSync(join(dir, name), content);
    mkdirSync(join(dir, '10.0.0.10')); // not a record
    writeFileSync(join(dir, 'ctr'), 'ctr\r\neth0'); // not an address
    const expected = (containerId: string, ifname: string) =>
      store
        .allocations()
        .filter((a) => ownedBy(a, containerId, ifname))
        .map((a) => formatIP(a.ip))
        .sort();
    store.withLock(() => {
      const got = store
        .heldBy('ctr', 'eth0')
        .map((a) => formatIP(a.ip))
        .sort();
      expect(got).toEqual(['10.0.0.2', '10.0.0.4', '10.0.0.5', 'fd00::2']);
      expect(got).toEqual(expected('ctr', 'eth0'));
      expect(
        store
          .heldBy('ctr', 'eth1')
          .map((a) => formatIP(a.ip))
          .sort(),
      ).toEqual(['10.0.0.3', '10.0.0.4']);
      expect(store.heldBy(`${'c'.repeat(5000)}ctr`, 'eth0').map((a) => formatIP(a.ip))).toEqual(['10.0.0.9']);
      expect(store.heldBy('nobody', 'eth0')).toEqual([]);
      expect(store.heldBy('ctr', 'eth0').find((a) => formatIP(a.ip) === '10.0.0.5')).toMatchObject({ containerId: 'ctr', ifname: 'eth0' });
    });
  });
});
