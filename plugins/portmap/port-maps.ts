import { NftError } from '../../lib/errors';
import { OwnedElements, type ElementSpec, type NftRunner } from '../../lib/nft';
import type { AttachmentState } from '../../lib/state/attachment-state';
import type { DnatEntry, PortmapEntry } from './entries';
import { deleteLine, elementLine, elementOf, getLine, hostIPOf, portGroup, resourceOf, STRUCTURE_CHAINS, structureScript } from './rules';

/**
 * One text transaction: the fixed structure, then the entries' elements. A map element whose key
 * is taken with other data (left by a crashed attachment that nobody owns any more) makes nftables
 * refuse the whole transaction; then those keys are looked up one by one (O(1) each, not a
 * listing) and replaced within the same transaction.
 */
function install(nft: NftRunner, entries: PortmapEntry[]): void {
  const script = [...structureScript(), ...entries.map(elementLine)];
  try {
    nft.run(script.join('\n'));
  } catch (err) {
    if (!(err instanceof NftError)) throw err;
    const stale = entries.filter((e): e is DnatEntry => e.kind === 'dnat').filter((e) => exists(nft, getLine(e)));
    if (!stale.length) throw err;
    nft.run([...structureScript(), ...stale.map(deleteLine), ...entries.map(elementLine)].join('\n'));
  }
}

function exists(nft: NftRunner, getCommand: string): boolean {
  try {
    // run, not list: nftables 1.0.6 answers `get element` in text even when JSON output is on
    nft.run(getCommand);
    return true;
  } catch (err) {
    if (err instanceof NftError) return false;
    throw err;
  }
}

/**
 * A host port belongs to one container per family and protocol: one may hold it on every address
 * (no hostIP), or several on distinct host addresses, never both (as Docker's port allocator).
 */
export const portmapSpec: ElementSpec<PortmapEntry> = {
  resource: resourceOf,
  elements: (e) => [elementOf(e)],
  install,
  group: (e) => (e.kind === 'dnat' ? portGroup(e) : undefined),
  conflicts: (e, held) => e.kind === 'dnat' && (e.hostIP === undefined || hostIPOf(held) === undefined),
  structure: () => ({ script: structureScript(), chains: STRUCTURE_CHAINS.map((name) => ({ family: 'inet', name })) }),
};

export type PortMaps = OwnedElements<PortmapEntry>;

export const newPortMaps = (nft: NftRunner, state: AttachmentState<PortmapEntry[]>): PortMaps => new OwnedElements(nft, state, portmapSpec);

/** Host ports are exclusive: a second container asking for one fails instead of stealing it. */
export const isExclusive = (e: PortmapEntry): boolean => e.kind === 'dnat';
