import { loadNetwork } from '../../lib/libcni/conf-files';
import { delList } from '../../lib/libcni/run-list';
import type { AttachmentView, NetworkView, Places } from './inventory';

export interface Stale extends AttachmentView {
  network: string;
}

/** Attachments whose network namespace no longer exists (the runtime lost track of them). */
export const staleAttachments = (networks: NetworkView[]): Stale[] =>
  networks.flatMap((net) => net.attachments.filter((a) => a.netnsExists === false).map((a) => ({ network: net.name, ...a })));

/**
 * Removes each through its network's own DEL chain (the conflist's plugins in reverse, with libcni's
 * cached result when there is one), as the runtime would have; returns what could not be removed.
 */
export async function removeStale(places: Places, binDirs: string[], stale: Stale[]): Promise<string[]> {
  const failures: string[] = [];
  for (const a of stale) {
    try {
      const { list } = loadNetwork(places.confDir, a.network);
      await delList({ list, path: binDirs, cacheDir: places.cacheDir }, { containerId: a.containerId, netns: a.netns!, ifname: a.ifname, args: [], capabilityArgs: {} });
    } catch (err) {
      failures.push(`${a.network} ${a.containerId} ${a.ifname}: ${(err as Error).message}`);
    }
  }
  return failures;
}
