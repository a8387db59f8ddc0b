import { loadNetwork } from '../../lib/libcni/conf-files';
import { delList } from '../../lib/libcni/run-list';
import { listLinks, openHostSocket } from '../../lib/netlink';
import { inventory, type AttachmentView, type NetworkView, type Places } from './inventory';

export interface Stale extends AttachmentView {
  network: string;
}

/**
 * Attachments whose network namespace no longer exists (the runtime lost track of them): the path
 * is certainly gone, and so is the host veth (a veth pair dies with its namespace), so a container
 * whose namespace is merely out of this process's sight is never taken for gone.
 */
export async function staleAttachments(networks: NetworkView[]): Promise<Stale[]> {
  const candidates = networks.flatMap((net) => net.attachments.filter((a) => a.netnsExists === false).map((a) => ({ network: net.name, ...a })));
  if (!candidates.length) return [];
  const sock = openHostSocket();
  try {
    const live = new Set((await listLinks(sock)).map((l) => l.name));
    return candidates.filter((a) => !a.hostVeth || !live.has(a.hostVeth));
  } finally {
    sock.socket.close();
  }
}

/**
 * Removes each through its network's own DEL chain (the conflist's plugins in reverse, with libcni's
 * cached result when there is one), as the runtime would have; returns what could not be removed.
 */
export async function removeStale(places: Places, binDirs: string[], stale: Stale[]): Promise<string[]> {
  const failures: string[] = [];
  for (const a of stale) {
    // looked at again right before: the runtime may have started the same container again meanwhile
    const now = (await staleAttachments(inventory(places))).some((s) => s.network === a.network && s.containerId === a.containerId && s.ifname === a.ifname);
    if (!now) continue;
    try {
      const { list } = loadNetwork(places.confDir, a.network);
      await delList({ list, path: binDirs, cacheDir: places.cacheDir }, { containerId: a.containerId, netns: a.netns!, ifname: a.ifname, args: [], capabilityArgs: {} });
    } catch (err) {
      failures.push(`${a.network} ${a.containerId} ${a.ifname}: ${(err as Error).message}`);
    }
  }
  return failures;
}
