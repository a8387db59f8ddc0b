import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileIfExists, unlinkIfExists } from '../../lib/fs';

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
  const file = path(dataDir, containerId, ifname);
  writeFileSync(`${file}.tmp`, JSON.stringify(saved), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function loadAttributes(dataDir: string, containerId: string, ifname: string): SavedAttributes | undefined {
  const text = readFileIfExists(path(dataDir, containerId, ifname));
  return text === undefined ? undefined : (JSON.parse(text) as SavedAttributes);
}

export function forgetAttributes(dataDir: string, containerId: string, ifname: string): void {
  unlinkIfExists(path(dataDir, containerId, ifname));
  unlinkIfExists(`${path(dataDir, containerId, ifname)}.tmp`); // left by an ADD killed mid-write
}
