import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readdirIfExists, readJsonIfValid, unlinkIfExists, writeFileAtomic } from '../fs';
import type { Result } from '../types';

export const DEFAULT_CACHE_DIR = '/var/lib/cni';

/** libcni's cached attachment (`<cacheDir>/results/<network>-<containerID>-<ifname>`, kind cniCacheV1). */
export interface CachedAttachment {
  kind: 'cniCacheV1';
  containerId: string;
  config: string;
  ifName: string;
  networkName: string;
  netns?: string;
  cniArgs?: Array<[string, string]>;
  capabilityArgs?: Record<string, unknown>;
  result?: Result;
}

const resultsDir = (cacheDir: string) => join(cacheDir, 'results');
const fileOf = (cacheDir: string, network: string, containerId: string, ifname: string) => join(resultsDir(cacheDir), `${network}-${containerId}-${ifname}`);

export function writeCache(cacheDir: string, entry: CachedAttachment): void {
  mkdirSync(resultsDir(cacheDir), { recursive: true, mode: 0o700 });
  writeFileAtomic(fileOf(cacheDir, entry.networkName, entry.containerId, entry.ifName), JSON.stringify(entry));
}

/** The cached attachment; a file that cannot be read counts as no cache (DEL then runs from the config). */
export function readCache(cacheDir: string, network: string, containerId: string, ifname: string): CachedAttachment | undefined {
  const entry = readJsonIfValid<CachedAttachment>(fileOf(cacheDir, network, containerId, ifname));
  return entry?.kind === 'cniCacheV1' ? entry : undefined;
}

export const removeCache = (cacheDir: string, network: string, containerId: string, ifname: string): void => unlinkIfExists(fileOf(cacheDir, network, containerId, ifname));

/** Every cached attachment of `network` (its valid attachments, for GC). */
export function cachedAttachments(cacheDir: string, network: string): CachedAttachment[] {
  return readdirIfExists(resultsDir(cacheDir))
    .filter((f) => f.startsWith(`${network}-`) && !f.endsWith('.tmp'))
    .flatMap((f) => {
      const entry = readJsonIfValid<CachedAttachment>(join(resultsDir(cacheDir), f));
      return entry?.kind === 'cniCacheV1' && entry.networkName === network ? [entry] : [];
    });
}
