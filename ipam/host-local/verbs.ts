import { existsSync } from 'node:fs';
import { CniError, ErrorCode } from '../../lib/errors';
import { formatIP, formatPrefix } from '../../lib/ip';
import { assertWritableDirectory } from '../../lib/fs';
import { log } from '../../lib/log';
import type { CallArgs, CmdArgs, DelArgs } from '../../lib/skel';
import { lenientString, type Result } from '../../lib/types';
import { allocate, collectGarbage, release, type ReservationOwner } from './allocator';
import { parseConfig, storeDirOf, type HostLocalConfig } from './config';
import { DiskStore } from './disk-store';
import { formatRangeSet, rangeSetCapacity, rangeSetContains } from './range';
import { readResolvConf } from './resolv-conf';

const ownerOf = (cmd: CallArgs): ReservationOwner => ({ containerId: cmd.containerId, ifname: cmd.ifname });

/** ADD's config checks alone, for a plugin that delegates to host-local before it changes anything. */
export function validate(cmd: CmdArgs): void {
  parseConfig(cmd);
}

export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  const dns = conf.resolvConf ? readResolvConf(conf.resolvConf) : undefined;
  const store = new DiskStore(conf.storeDir);
  const allocated = store.withLock(() => allocate(store, conf.rangeSets, ownerOf(cmd), conf.requestedIPs));
  log.info('allocated', { ips: allocated.map((a) => formatIP(a.ip)) });
  return {
    cniVersion: conf.cniVersion,
    ips: allocated.map(({ ip, range }) => ({
      address: formatPrefix({ ip, length: range.subnet.length }),
      gateway: formatIP(range.gateway),
    })),
    routes: conf.routes,
    dns,
  };
}

/**
 * Releases what the attachment holds. Reads only the store's place (name, ipam.dataDir), so a
 * config ADD refused is no reason to fail; a store that was never created holds nothing.
 */
export async function del(cmd: DelArgs): Promise<void> {
  const storeDir = storeDirOf(cmd.config.name, lenientString(cmd.config, 'ipam', 'dataDir'));
  if (!existsSync(storeDir)) return;
  const store = new DiskStore(storeDir);
  const released = store.withLock(() => release(store, ownerOf(cmd)));
  log.info('released', { ips: released.map((a) => formatIP(a.ip)) });
}

/** Every range set must hold an address for this attachment. */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const store = new DiskStore(conf.storeDir);
  const held = store.withLock(() => store.heldBy(cmd.containerId, cmd.ifname));
  conf.rangeSets.forEach((set, index) => {
    if (!held.some((a) => rangeSetContains(set, a.ip))) {
      throw new CniError(
        ErrorCode.AllocationMissing,
        `host-local: no address reserved for container ${JSON.stringify(cmd.containerId)} interface ${JSON.stringify(cmd.ifname)} in range set ${index} (${formatRangeSet(set)}) of network ${JSON.stringify(conf.networkName)}`,
      );
    }
  });
}

/** Ready when the store is writable and every range set has a free address. */
export async function status(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const store = openWritableStore(conf);
  const reserved = store.withLock(() => store.reservedAddresses());
  conf.rangeSets.forEach((set, index) => {
    const used = BigInt(reserved.filter((ip) => rangeSetContains(set, ip)).length);
    if (used >= rangeSetCapacity(set)) {
      throw new CniError(ErrorCode.PluginNotAvailable, `range set ${index} (${formatRangeSet(set)}) is full: ${used} addresses allocated`);
    }
  });
}

/** Releases every address of this network held by an attachment not in cni.dev/valid-attachments. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const store = new DiskStore(conf.storeDir);
  const valid = (cmd.validAttachments ?? []).map((a) => ({ containerId: a.containerID, ifname: a.ifname }));
  const removed = store.withLock(() => collectGarbage(store, valid));
  log.info('garbage collected', { ips: removed.map((a) => formatIP(a.ip)) });
}

function openWritableStore(conf: HostLocalConfig): DiskStore {
  assertWritableDirectory(conf.storeDir, 'data directory');
  return new DiskStore(conf.storeDir);
}
