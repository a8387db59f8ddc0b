import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readdirIfExists, readFileIfExists, unlinkIfExists } from '../fs';
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
  const file = fileOf(cacheDir, entry.networkName, entry.containerId, entry.ifName);
  writeFileSync(`${file}.tmp`, JSON.stringify(entry), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function readCache(cacheDir: string, network: string, containerId: string, ifname: string): CachedAttachment | undefined {
  const text = readFileIfExists(fileOf(cacheDir, network, containerId, ifname));
  return text === undefined ? undefined : (JSON.parse(text) as CachedAttachment);
}

export const removeCache = (cacheDir: string, network: string, containerId: string, ifname: string): void =>
  unlinkIfExists(fileOf(cacheDir, network, containerId, ifname));

/** Every cached attachment of `network` (its valid attachments, for GC). */
export function cachedAttachments(cacheDir: string, network: string): CachedAttachment[] {
  return readdirIfExists(resultsDir(cacheDir))
    .filter((f) => f.startsWith(`${network}-`) && !f.endsWith('.tmp'))
    .flatMap((f) => {
      try {
        const entry = JSON.parse(readFileIfExists(join(resultsDir(cacheDir), f)) ?? '') as CachedAttachment;
        return entry.kind === 'cniCacheV1' && entry.networkName === network ? [entry] : [];
      } catch {
        return [];
      }
    });
}
