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
}

/** The host as a set of installed entry ids; `failOn` makes install fail after the entries before it. */
class MemoryHost implements EntrySpec<Entry> {
  readonly installed = new Set<string>();
  failOn?: string;
  resource = (e: Entry) => e.id;
  shared = (e: Entry) => Boolean(e.shared);
  group = (e: Entry) => e.group;
  conflicts = (e: Entry, held: string) => e.id.endsWith('/*') || held.endsWith('/*');
  install(entries: Entry[]) {
    for (const e of entries) {
      if (e.id === this.failOn) throw new Error(`cannot install ${e.id}`);
      this.installed.add(e.id);
    }
  }
  uninstall(entries: Entry[]) {
    for (const e of entries) this.installed.delete(e.id);
  }
  missing(entries: Entry[]) {
    return entries.filter((e) => !this.installed.has(e.id));
  }
}

const key = (containerId: string): AttachmentKey => ({ network: 'net', containerId, ifname: 'eth0' });

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
