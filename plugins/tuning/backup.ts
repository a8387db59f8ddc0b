import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonIfValid, TEMP_SUFFIX, unlinkIfExists, writeFileAtomic } from '../../lib/fs';

/** What ADD changed, as it was before; the reference's file format (`<dataDir>/<containerID>_<ifname>.json`). */
export interface SavedAttributes {
  mac?: string;
  mtu?: number;
  promisc?: boolean;
  allmulti?: boolean;
  txQLen?: number;
}

const path = (dataDir: string, containerId: string, ifname: string) => join(dataDir, `${containerId}_${ifname}.json`);

export function saveAttributes(dataDir: string, containerId: string, ifname: string, saved: SavedAttributes): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(path(dataDir, containerId, ifname), JSON.stringify(saved));
}

/** The backup, or undefined when there is none or it cannot be read (then there is nothing to restore). */
export function loadAttributes(dataDir: string, containerId: string, ifname: string): SavedAttributes | undefined {
  const saved = readJsonIfValid<SavedAttributes>(path(dataDir, containerId, ifname));
  return typeof saved === 'object' && saved !== null ? saved : undefined;
}

export function forgetAttributes(dataDir: string, containerId: string, ifname: string): void {
  unlinkIfExists(path(dataDir, containerId, ifname));
  unlinkIfExists(`${path(dataDir, containerId, ifname)}${TEMP_SUFFIX}`); // left by an ADD killed mid-write
}
