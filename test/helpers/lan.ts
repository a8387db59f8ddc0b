import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { netnsPool, type TestNetns } from './netns';
import { requireRoot } from './root';

const ip = (...args: string[]) => execFileSync('ip', args);

export interface LanNic {
  /** The "physical" NIC in the host namespace (a veth end). */
  name: string;
  /** The LAN peer's addresses, on the other end in the LAN namespace. */
  peer4: string;
  peer6: string;
}

/**
 * A "physical" NIC for the plugins that put a container straight on the host's wire (macvlan,
 * host-device): a veth end `name` in `host` (up, `mtu` if given), whose other end sits in `lan` with
 * `<prefix>.1/24` and `<prefix6>::1/64`, playing the rest of the LAN.
 */
export function addLanNic(host: TestNetns, lan: TestNetns, name: string, peerName: string, net: { v4: string; v6: string; mtu?: number }): LanNic {
  ip('-n', host.name, 'link', 'add', name, ...(net.mtu ? ['mtu', String(net.mtu)] : []), 'type', 'veth', 'peer', 'name', peerName, 'netns', lan.name);
  ip('-n', lan.name, 'addr', 'add', `${net.v4}.1/24`, 'dev', peerName);
  ip('-n', lan.name, 'addr', 'add', `${net.v6}::1/64`, 'dev', peerName, 'nodad');
  ip('-n', lan.name, 'link', 'set', peerName, 'up');
  ip('-n', lan.name, 'link', 'set', 'lo', 'up');
  ip('-n', host.name, 'link', 'set', name, 'up');
  return { name, peer4: `${net.v4}.1`, peer6: `${net.v6}::1` };
}

export interface LanFixture {
  /** A fresh temporary directory (IPAM store, state), removed after the test. */
  dir: string;
  host: TestNetns;
  lan: TestNetns;
}

/**
 * Root, then per test a temporary directory, a host namespace (lo up) and a LAN namespace; the test
 * adds its NICs with addLanNic. Afterwards, pass or fail, every namespace made through the returned
 * pool and the directory are removed.
 */
export function useLanFixture(tmpPrefix: string, onEach: (fixture: LanFixture) => void): ReturnType<typeof netnsPool> {
  const pool = netnsPool();
  let dir: string | undefined;
  beforeAll(requireRoot);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), tmpPrefix));
    const host = pool.make('host');
    const lan = pool.make('lan');
    ip('-n', host.name, 'link', 'set', 'lo', 'up');
    onEach({ dir, host, lan });
  });
  afterEach(() => {
    pool.destroyAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return pool;
}
