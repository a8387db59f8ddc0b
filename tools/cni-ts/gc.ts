import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DATA_DIR } from '../../ipam/host-local/config';
import { readCache } from '../../lib/libcni/cache';
import { listFromCache, loadNetwork } from '../../lib/libcni/conf-files';
import { delList } from '../../lib/libcni/run-list';
import { AttachmentState, stateRoot, type AttachmentKey } from '../../lib/state/attachment-state';
import type { VethRecord } from '../../lib/iface/veth-records';
import type { NetConfList } from '../../lib/types';
import { dnsnameBase, NetworkDns } from '../../plugins/dnsname/files';
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
 * Removes each through its network's own DEL chain (the conflist's plugins in reverse, with
 * libcni's cached result when there is one), as the runtime would have. A network whose config file
 * is gone runs the config libcni cached with the attachment, else a chain of the plugins whose
 * records hold it (each DEL works from its records). Returns what could not be removed, and notes
 * on what a chain from records cannot reach.
 */
export async function removeStale(places: Places, binDirs: string[], stale: Stale[]): Promise<{ failures: string[]; notes: string[] }> {
  const failures: string[] = [];
  const notes: string[] = [];
  for (const a of stale) {
    // looked at again right before: the runtime may have started the same container again meanwhile
    const now = (await staleAttachments(inventory(places))).some((s) => s.network === a.network && s.containerId === a.containerId && s.ifname === a.ifname);
    if (!now) continue;
    const what = `${a.network} ${a.containerId} ${a.ifname}`;
    try {
      const { list, note } = deletionChain(places, a);
      if (note) notes.push(`${what}: ${note}`);
      await delList({ list, path: binDirs, cacheDir: places.cacheDir }, { containerId: a.containerId, netns: a.netns ?? '', ifname: a.ifname, args: [], capabilityArgs: {} });
    } catch (err) {
      failures.push(`${what}: ${(err as Error).message}`);
    }
  }
  return { failures, notes };
}

/** The plugins that keep records of an attachment in the suite's state, in a chain's order, and the state directory of each. */
const RECORD_KEEPERS: Array<{ type: string; dir: string; ipam?: true }> = [
  { type: 'bridge', dir: 'bridge', ipam: true },
  { type: 'ptp', dir: 'ptp', ipam: true },
  { type: 'host-device', dir: 'host-device' },
  { type: 'sbr', dir: 'sbr' },
  { type: 'vrf', dir: 'vrf' },
  { type: 'bandwidth', dir: 'bandwidth' },
  { type: 'portmap', dir: 'portmap' },
  { type: 'firewall', dir: 'firewall' },
];

function deletionChain(places: Places, a: Stale): { list: NetConfList; note?: string } {
  const file = loadNetworkIfPresent(places.confDir, a.network);
  if (file) return { list: file };
  const cached = readCache(places.cacheDir, a.network, a.containerId, a.ifname);
  if (cached) return { list: listFromCache(cached.config, `the cached config of ${a.containerId}`), note: `no config file: ran the DEL chain libcni cached with it` };
  const key: AttachmentKey = { network: a.network, containerId: a.containerId, ifname: a.ifname };
  // a component directory that does not exist is not made by looking
  const recordOf = (dir: string) => (existsSync(join(stateRoot(places.env), dir)) ? new AttachmentState<VethRecord>(stateRoot(places.env), dir).read(key) : undefined);
  const plugins: NetConfList['plugins'] = RECORD_KEEPERS.flatMap((k) => {
    const record = recordOf(k.dir);
    if (!record) return [];
    // the addresses: with the IPAM section the interface plugin recorded, else host-local's default directory
    return [{ type: k.type, ...(k.ipam ? { ipam: record.ipam ?? { type: 'host-local' } } : {}) }];
  });
  // tuning keeps its backups in its data dir, dnsname its lines in its own state: both DELs are idempotent
  plugins.push({ type: 'tuning' });
  const dnsBase = dnsnameBase(places.env);
  if (existsSync(join(dnsBase, a.network)) && new NetworkDns(dnsBase, a.network).records.read(key) !== undefined) plugins.push({ type: 'dnsname' });
  return {
    list: { cniVersion: '1.1.0', name: a.network, plugins },
    note: `no config file and no cached config: removed through the records of ${plugins.map((p) => p.type).join(', ')}${plugins.some((p) => p.ipam && !(p.ipam as { dataDir?: string }).dataDir) ? ` (addresses from ${DEFAULT_DATA_DIR})` : ''}; tuning's backups only where its default data dir keeps them`,
  };
}

function loadNetworkIfPresent(confDir: string, name: string): NetConfList | undefined {
  try {
    return loadNetwork(confDir, name).list;
  } catch {
    return undefined;
  }
}
