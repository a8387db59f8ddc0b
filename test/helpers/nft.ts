import { execFileSync } from 'node:child_process';
import type { TestNetns } from './netns';

/** The addresses in the suite's masquerade map of `family` in `ns` (table inet cni_ts); none when the map is not there. */
export function masqElements(ns: TestNetns, family: 4 | 6): string[] {
  try {
    const out = JSON.parse(
      execFileSync('ip', ['netns', 'exec', ns.name, 'nft', '-j', 'list', 'map', 'inet', 'cni_ts', `masq${family}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    );
    const map = out.nftables.find((x: { map?: unknown }) => x.map)?.map;
    return (map?.elem ?? []).map((e: unknown[]) => e[0]);
  } catch {
    return [];
  }
}
