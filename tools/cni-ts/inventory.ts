import { existsSync, statSync } from 'node:fs';
import { isNodeErrorCode } from '../../lib/errors';
import { join } from 'node:path';
import { DiskStore } from '../../ipam/host-local/disk-store';
import { DEFAULT_DATA_DIR } from '../../ipam/host-local/config';
import { canonicalizeRangeSet, formatRangeSet, rangeSetCapacity, rangeSetContains, type RangeInput } from '../../ipam/host-local/range';
import { readdirIfExists } from '../../lib/fs';
import { formatIP } from '../../lib/ip';
import { cachedAttachments } from '../../lib/libcni/cache';
import { loadNetworks } from '../../lib/libcni/conf-files';
import type { AttachmentKey, StateEnv } from '../../lib/state/attachment-state';
import type { NetConfList } from '../../lib/types';
import { bridgeState } from '../../plugins/bridge/records';
import { dnsnameBase, NetworkDns } from '../../plugins/dnsname/files';
import { RECORDED_COMPONENTS } from '../../plugins/recorded-components';

/** Where the tool looks: the runtime's config directory, libcni's cache, the suite's state (CNI_TS_STATE_DIR). */
export interface Places {
  confDir: string;
  cacheDir: string;
  env: StateEnv['env'];
}

export interface AttachmentView {
  containerId: string;
  ifname: string;
  netns?: string;
  /** undefined when the namespace path is not known */
  netnsExists?: boolean;
  addresses: string[];
  bridge?: string;
  hostVeth?: string;
  ports: string[];
  masquerade: string[];
  firewall: string[];
  names: string[];
}

export interface RangeUse {
  range: string;
  used: number;
  free: string;
}

export interface NetworkView {
  name: string;
  /** The conflist that defines it; undefined for a network known only from state. */
  file?: string;
  plugins: string[];
  ranges: RangeUse[];
  attachments: AttachmentView[];
}

type HostLocalIpam = { type?: string; dataDir?: string; ranges?: RangeInput[][]; subnet?: string };
const hostLocalOf = (list: NetConfList | undefined): HostLocalIpam | undefined =>
  list?.plugins.map((p) => p.ipam as HostLocalIpam | undefined).find((ipam) => ipam?.type === 'host-local');

/** Every network of the conflists and of the suite's state, with each attachment and what it holds. */
export function inventory(places: Places): NetworkView[] {
  const lists = new Map<string, { list: NetConfList; file: string }>();
  for (const loaded of loadNetworks(places.confDir)) if ('list' in loaded && !lists.has(loaded.list.name)) lists.set(loaded.list.name, loaded);
  const attachments = new Map<string, AttachmentView & { network: string }>();
  const at = (key: AttachmentKey) => {
    const id = JSON.stringify([key.network, key.containerId, key.ifname]);
    if (!attachments.has(id))
      attachments.set(id, { network: key.network, containerId: key.containerId, ifname: key.ifname, addresses: [], ports: [], masquerade: [], firewall: [], names: [] });
    return attachments.get(id)!;
  };
  const state = { env: places.env };

  const bridges = bridgeState(state);
  for (const { key, data } of bridges.withLock(() => bridges.list())) Object.assign(at(key), { bridge: data.bridge, hostVeth: data.hostVeth, netns: data.netns });
  for (const { shownAs, open } of RECORDED_COMPONENTS) {
    if (shownAs) for (const { key, text } of open(state).shown()) at(key)[shownAs].push(text);
  }
  const dnsBase = dnsnameBase(places.env);
  for (const network of readdirIfExists(dnsBase)) {
    const dns = new NetworkDns(dnsBase, network);
    for (const { key, data } of dns.records.withLock(() => dns.records.list(network))) {
      at(key).names.push(...new Set(data.lines.flatMap((line) => line.split('\t').slice(1))));
    }
  }

  const names = new Set([...lists.keys(), ...[...attachments.values()].map((a) => a.network), ...readdirIfExists(DEFAULT_DATA_DIR)]);
  return [...names].sort().map((name) => {
    const loaded = lists.get(name);
    const ipam = hostLocalOf(loaded?.list);
    const storeDir = join(ipam?.dataDir || DEFAULT_DATA_DIR, name);
    const allocations = existsSync(storeDir) ? new DiskStore(storeDir).allocations() : [];
    for (const a of allocations) if (a.ifname) at({ network: name, containerId: a.containerId, ifname: a.ifname }).addresses.push(formatIP(a.ip));
    for (const cached of cachedAttachments(places.cacheDir, name)) {
      const view = at({ network: name, containerId: cached.containerId, ifname: cached.ifName });
      view.netns ??= cached.netns;
    }
    const views = [...attachments.values()]
      .filter((a) => a.network === name)
      .map(({ network: _n, ...view }) => ({
        ...view,
        netnsExists: view.netns ? pathExists(view.netns) : undefined,
      }));
    return {
      name,
      file: loaded?.file,
      plugins: loaded?.list.plugins.map((p) => p.type) ?? [],
      ranges: rangeUse(
        ipam,
        allocations.map((a) => a.ip),
      ),
      attachments: views.sort((a, b) => a.containerId.localeCompare(b.containerId) || a.ifname.localeCompare(b.ifname)),
    };
  });
}

/** false only when the path is certainly not there (ENOENT); a path this process may not see (EACCES) counts as there. */
function pathExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (err) {
    return !isNodeErrorCode(err, 'ENOENT');
  }
}

function rangeUse(ipam: HostLocalIpam | undefined, used: Parameters<typeof rangeSetContains>[1][]): RangeUse[] {
  if (!ipam) return [];
  const inputs = ipam.ranges ?? (ipam.subnet ? [[ipam as RangeInput]] : []);
  return inputs.flatMap((input, i) => {
    try {
      const set = canonicalizeRangeSet(input, `ranges[${i}]`);
      const count = used.filter((ip) => rangeSetContains(set, ip)).length;
      return [{ range: formatRangeSet(set), used: count, free: String(rangeSetCapacity(set) - BigInt(count)) }];
    } catch {
      return [];
    }
  });
}
