import { NftError } from '../../lib/errors';
import { OwnedElements, type ElementSpec, type NftRunner } from '../../lib/nft';
import type { AttachmentState } from '../../lib/state/attachment-state';
import type { DnatEntry, PortmapEntry } from './entries';
import {
  type ConditionsGroup,
  conditionsChains,
  conditionsGroups,
  conditionsMapSets,
  conditionsScript,
  conditionsTeardown,
  elementOf,
  hostIPOf,
  portGroup,
  resourceOf,
  STRUCTURE_CHAINS,
  structureScript,
} from './rules';

/**
 * One text transaction: the fixed structure, the elements of `replacing` (a handover: another
 * attachment of the same container leaving these ports) deleted, then the entries' elements. A
 * map element whose key is taken with other data (left by a crashed attachment that nobody owns
 * any more) makes nftables refuse the whole transaction, as does deleting an element already
 * gone (a flushed ruleset); then the keys are looked up one by one (O(1) each, not a listing)
 * and the present ones replaced within the same transaction.
 */
function install(nft: NftRunner, entries: PortmapEntry[], replacing: PortmapEntry[] = []): void {
  const structure = [...structureScript(), ...conditionsGroups([...entries, ...replacing]).flatMap(conditionsScript)];
  const script = (deleted: DnatEntry[]) => [...structure, ...deleted.map((e) => elementOf(e).deleteLine()), ...entries.map((e) => elementOf(e).addLine())].join('\n');
  const replaced = replacing.filter(isDnat);
  try {
    nft.run(script(replaced));
  } catch (err) {
    if (!(err instanceof NftError)) throw err;
    const present = entries.filter(isDnat).filter((e) => exists(nft, elementOf(e).getLine()));
    if (!present.length && !replaced.length) throw err;
    nft.run(script(present));
  }
}

const isDnat = (e: PortmapEntry): e is DnatEntry => e.kind === 'dnat';

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
 * Within that container, the first attachment that mapped the port gets its traffic; the others
 * stand by, and the next in order takes it over, in one transaction, when that one is deleted.
 */
export const portmapSpec: ElementSpec<PortmapEntry> = {
  resource: resourceOf,
  elements: (e) => [elementOf(e)],
  install,
  group: (e) => (e.kind === 'dnat' ? portGroup(e) : undefined),
  conflicts: (e, held) => e.kind === 'dnat' && (e.hostIP === undefined || hostIPOf(held) === undefined),
  // a runtime passes a container's port mappings to every network it joins (Podman's connect, --network a,b)
  sibling: (owner, key) => owner.containerId === key.containerId,
  structure: (entries) => {
    const groups = conditionsGroups(entries);
    return {
      script: [...structureScript(), ...groups.flatMap(conditionsScript)],
      chains: [...STRUCTURE_CHAINS, ...groups.flatMap(conditionsChains)].map((name) => ({ family: 'inet', name })),
    };
  },
  releaseWith: (entries, nft) => conditionsGroups(entries).flatMap((g) => (usedOnlyBy(nft, g, entries) ? conditionsTeardown(g) : [])),
};

/** Whether the group's maps hold no element but the entries' (which are being deleted): then its chains and maps go with them. */
function usedOnlyBy(nft: NftRunner, group: ConditionsGroup, entries: PortmapEntry[]): boolean {
  const leaving = new Set(entries.map(elementOf).map((el) => `${el.set.name} ${el.listedKey}`));
  return conditionsMapSets(group).every((set) => set.listedKeys(nft).every((key) => leaving.has(`${set.name} ${key}`)));
}

export type PortMaps = OwnedElements<PortmapEntry>;

export const newPortMaps = (nft: NftRunner, state: AttachmentState<PortmapEntry[]>): PortMaps => new OwnedElements(nft, state, portmapSpec);

/** Host ports are exclusive: a second container asking for one fails instead of stealing it. */
export const isExclusive = (e: PortmapEntry): boolean => e.kind === 'dnat';
