import { mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttachmentState, type AttachmentKey } from './attachment-state';
import { OwnedEntries, type EntrySpec } from './owned-entries';

interface Entry {
  id: string;
  shared?: boolean;
  /** "port/host": entries of one port compete; host "*" holds every host. */
  group?: string;
  /** Where the entry sends traffic (an element's data); two attachments' entries of one resource differ in it. */
  to?: string;
}

/** The host as a set of installed entry ids; `failOn` makes install fail after the entries before it. */
class MemoryHost implements EntrySpec<Entry> {
  readonly installed = new Set<string>();
  /** id -> `to` of what is installed */
  readonly targets = new Map<string, string | undefined>();
  readonly installs: Array<{ entries: string[]; replacing: string[] }> = [];
  failOn?: string;
  sibling?: (owner: AttachmentKey, key: AttachmentKey) => boolean;
  resource = (e: Entry) => e.id;
  shared = (e: Entry) => Boolean(e.shared);
  group = (e: Entry) => e.group;
  conflicts = (e: Entry, held: string) => e.id.endsWith('/*') || held.endsWith('/*');
  install(entries: Entry[], replacing: Entry[] = []) {
    this.installs.push({ entries: entries.map((e) => `${e.id}>${e.to}`), replacing: replacing.map((e) => `${e.id}>${e.to}`) });
    for (const e of replacing) this.uninstall([e]);
    for (const e of entries) {
      if (e.id === this.failOn) throw new Error(`cannot install ${e.id}`);
      this.installed.add(e.id);
      this.targets.set(e.id, e.to);
    }
  }
  uninstall(entries: Entry[]) {
    for (const e of entries) {
      this.installed.delete(e.id);
      this.targets.delete(e.id);
    }
  }
  missing(entries: Entry[]) {
    return entries.filter((e) => !this.installed.has(e.id));
  }
}

const key = (containerId: string, network = 'net', ifname = 'eth0'): AttachmentKey => ({ network, containerId, ifname });

let dir: string;
let host: MemoryHost;
let owned: OwnedEntries<Entry>;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'owned-'));
  host = new MemoryHost();
  owned = new OwnedEntries(new AttachmentState<Entry[]>(dir, 'test'), host);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('OwnedEntries', () => {
  it('a failed install removes what it had installed and the record', () => {
    host.failOn = 'b';
    expect(() => owned.add(key('c1'), [{ id: 'a' }, { id: 'b' }])).toThrow('cannot install b');
    expect([...host.installed]).toEqual([]);
    expect(owned.recorded(key('c1'))).toBeUndefined();
  });

  it('a shared entry stays while another attachment records it', () => {
    owned.add(key('c1'), [{ id: 'own1' }, { id: 'bridge', shared: true }]);
    owned.add(key('c2'), [{ id: 'own2' }, { id: 'bridge', shared: true }]);
    owned.remove(key('c1'));
    expect([...host.installed].sort()).toEqual(['bridge', 'own2']);
    owned.remove(key('c2'));
    expect([...host.installed]).toEqual([]);
  });

  it('a late removal leaves a taken-over entry to its new owner', () => {
    owned.add(key('old'), [{ id: 'addr' }]);
    owned.add(key('new'), [{ id: 'addr' }]);
    owned.remove(key('old'));
    expect([...host.installed]).toEqual(['addr']);
    expect(owned.missing([{ id: 'addr' }])).toEqual([]);
  });

  it('reapply installs what each attachment still owns, shared entries once, and nothing released', () => {
    owned.add(key('old'), [{ id: 'addr' }, { id: 'bridge', shared: true }]);
    owned.add(key('new'), [{ id: 'addr' }, { id: 'port' }, { id: 'bridge', shared: true }]);
    owned.add(key('gone'), [{ id: 'x' }]);
    owned.remove(key('gone'));
    host.installed.clear(); // what `nft flush ruleset` does
    const installs: string[][] = [];
    const install = host.install.bind(host);
    host.install = (entries) => {
      installs.push(entries.map((e) => e.id));
      install(entries);
    };
    expect(owned.reapply()).toBe(3);
    expect(installs).toHaveLength(1);
    expect([...host.installed].sort()).toEqual(['addr', 'bridge', 'port']);
  });

  const port = (id: string): Entry => ({ id, group: id.split('/')[0] });
  const exclusive = () => true;

  it('a port held on every address rules out each specific address, and the other way round', () => {
    owned.add(key('a'), [port('80/*')], exclusive);
    expect(() => owned.add(key('b'), [port('80/10.0.0.1')], exclusive)).toThrow(/taken by container a/);
    owned.add(key('c'), [port('81/10.0.0.1')], exclusive);
    owned.add(key('d'), [port('81/10.0.0.2')], exclusive);
    expect(() => owned.add(key('e'), [port('81/*')], exclusive)).toThrow(/taken by container c/);
    expect([...host.installed].sort()).toEqual(['80/*', '81/10.0.0.1', '81/10.0.0.2']);
  });

  it('a released port is free again for any address, and its group leaves no directory behind', () => {
    owned.add(key('a'), [port('80/*')], exclusive);
    owned.remove(key('a'));
    owned.add(key('b'), [port('80/10.0.0.1')], exclusive);
    owned.remove(key('b'));
    expect(readdirSync(join(dir, 'test', 'groups'))).toEqual([]);
  });

  it('a record emptied by a power cut: DEL still removes what the attachment owns, found through its owners', () => {
    owned.add(key('a'), [{ id: 'x' }, { id: 'y' }]);
    owned.add(key('b'), [{ id: 'z' }]);
    const records = join(dir, 'test', 'attachments', 'net');
    for (const f of readdirSync(records)) truncateSync(join(records, f), 0);
    owned.remove(key('a'));
    expect([...host.installed]).toEqual(['z']);
    expect(owned.attachments('net')).toEqual([key('b')]);
    owned.collect(key('b'));
    expect([...host.installed]).toEqual([]);
    expect(owned.attachments('net')).toEqual([]);
  });

  it('an owner file emptied by a power cut does not keep its entry from being removed', () => {
    owned.add(key('a'), [{ id: 'x' }]);
    const owners = join(dir, 'test', 'owners');
    for (const f of readdirSync(owners)) truncateSync(join(owners, f), 0);
    owned.remove(key('a'));
    expect([...host.installed]).toEqual([]);
  });
});

describe('OwnedEntries: one container holding an exclusive resource on several attachments', () => {
  const exclusive = (e: Entry) => e.id.startsWith('port');
  // the same container on two networks: the same port, each network's own address
  const front = key('web', 'front');
  const back = key('web', 'back', 'eth1');
  const port = (to: string): Entry => ({ id: 'port80', group: '80', to });
  beforeEach(() => {
    host.sibling = (owner, k) => owner.containerId === k.containerId;
  });

  it('the first attachment keeps the traffic, the second stands by; deleting the first hands over in one install', () => {
    owned.add(front, [port('10.1.0.2'), { id: 'masq-front' }], exclusive);
    owned.add(back, [port('10.2.0.2'), { id: 'masq-back' }], exclusive);
    expect(host.targets.get('port80')).toBe('10.1.0.2');
    // the standby is recorded (CHECK and listings see it) and its other entries are installed
    expect(owned.recorded(back)).toContainEqual(port('10.2.0.2'));
    expect(host.installed.has('masq-back')).toBe(true);
    expect(owned.standsBy(back, port('10.2.0.2'))).toBe(true);
    expect(owned.standsBy(front, port('10.1.0.2'))).toBe(false);

    host.installs.length = 0;
    owned.remove(front);
    expect(host.targets.get('port80')).toBe('10.2.0.2');
    expect(host.installs).toEqual([{ entries: ['port80>10.2.0.2'], replacing: ['port80>10.1.0.2'] }]);
    expect(host.installed.has('masq-front')).toBe(false);
    expect(owned.standsBy(back, port('10.2.0.2'))).toBe(false);

    // the front network comes back (connect again, container restart): it stands by now
    owned.add(front, [port('10.1.0.3')], exclusive);
    expect(host.targets.get('port80')).toBe('10.2.0.2');
    owned.remove(back);
    expect(host.targets.get('port80')).toBe('10.1.0.3');
    owned.remove(front);
    expect([...host.installed]).toEqual([]);
    expect(readdirSync(join(dir, 'test', 'owners'))).toEqual([]);
  });

  it('a standby that leaves first changes nothing in the kernel; the owner then releases the port', () => {
    owned.add(front, [port('10.1.0.2')], exclusive);
    owned.add(back, [port('10.2.0.2')], exclusive);
    host.installs.length = 0;
    owned.remove(back);
    expect(host.installs).toEqual([]);
    expect(host.targets.get('port80')).toBe('10.1.0.2');
    owned.remove(front);
    expect([...host.installed]).toEqual([]);
    // and another container may take the port now
    owned.add(key('other'), [port('10.1.0.9')], exclusive);
    expect(host.targets.get('port80')).toBe('10.1.0.9');
  });

  it('another container is still refused, on any of its networks, naming the holder', () => {
    owned.add(front, [port('10.1.0.2')], exclusive);
    owned.add(back, [port('10.2.0.2')], exclusive);
    expect(() => owned.add(key('other', 'back', 'eth0'), [port('10.2.0.7')], exclusive)).toThrow(/taken by container web \(eth0\) of network front/);
    owned.remove(front);
    expect(() => owned.add(key('other', 'front', 'eth0'), [port('10.1.0.7')], exclusive)).toThrow(/taken by container web \(eth1\) of network back/);
  });

  it('three attachments take over in the order they came; a standby whose record was lost is passed over', () => {
    const third = key('web', 'third', 'eth2');
    owned.add(front, [port('10.1.0.2')], exclusive);
    owned.add(back, [port('10.2.0.2')], exclusive);
    owned.add(third, [port('10.3.0.2')], exclusive);
    // back's record is lost without its DEL (a crash): its place in the line must not receive the port
    rmSync(join(dir, 'test', 'attachments', 'back'), { recursive: true });
    owned.remove(front);
    expect(host.targets.get('port80')).toBe('10.3.0.2');
    owned.remove(third);
    expect([...host.installed]).toEqual([]);
  });

  it("reapply installs the owner's entry only; a failed ADD of a standby leaves the standby list", () => {
    owned.add(front, [port('10.1.0.2')], exclusive);
    host.failOn = 'masq-back';
    expect(() => owned.add(back, [port('10.2.0.2'), { id: 'masq-back' }], exclusive)).toThrow();
    host.failOn = undefined;
    expect(owned.standsBy(back, port('10.2.0.2'))).toBe(false);
    owned.add(back, [port('10.2.0.2')], exclusive);
    host.installed.clear();
    host.targets.clear();
    expect(owned.reapply()).toBe(1);
    expect(host.targets.get('port80')).toBe('10.1.0.2');
  });

  it('a DEL whose record was lost still leaves its standby places (found through the owners)', () => {
    owned.add(front, [port('10.1.0.2')], exclusive);
    owned.add(back, [port('10.2.0.2')], exclusive);
    const records = join(dir, 'test', 'attachments', 'back');
    for (const f of readdirSync(records)) truncateSync(join(records, f), 0);
    expect(owned.attachments('back')).toEqual([back]);
    owned.remove(back);
    expect(owned.attachments('back')).toEqual([]);
    owned.remove(front);
    expect([...host.installed]).toEqual([]);
  });
});
