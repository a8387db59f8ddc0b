import { NftError } from '../errors';
import type { NftCommand, NftRunner } from './runner';
import type { SetElement } from './set';

const deleteCommands = (elements: SetElement[]): NftCommand[] => elements.map((e) => e.deleteCommand());

/** The elements, of those given, that the kernel has (a missing table or set means none). */
export function presentElements(nft: NftRunner, elements: SetElement[]): SetElement[] {
  const listed = new Map<string, Set<string>>();
  const setId = (e: SetElement) => `${e.set.kind} ${e.set.textName}`;
  for (const e of elements) {
    if (!listed.has(setId(e))) listed.set(setId(e), new Set(e.set.listedKeys(nft)));
  }
  return elements.filter((e) => listed.get(setId(e))!.has(e.listedKey));
}

/**
 * Deletes the elements and, in the same transaction, `ifUnused` (e.g. a chain they may have been
 * the last to jump to). nftables refuses the whole transaction when something in `ifUnused` is
 * still in use: then the elements go alone. When even that is refused (an element already gone,
 * e.g. after `nft flush ruleset`), only the elements still present go, and each of `ifUnused` is
 * tried on its own. Idempotent; the listing happens only on that last path.
 */
export function deleteElements(nft: NftRunner, elements: SetElement[], ifUnused: NftCommand[] = []): void {
  if (!elements.length && !ifUnused.length) return;
  const refused = (run: () => void): boolean => {
    try {
      run();
      return false;
    } catch (err) {
      if (!(err instanceof NftError)) throw err;
      return true;
    }
  };
  if (!refused(() => nft.apply([...deleteCommands(elements), ...ifUnused]))) return;
  if (ifUnused.length && !refused(() => nft.apply(deleteCommands(elements)))) return;
  nft.apply(deleteCommands(presentElements(nft, elements)));
  for (const command of ifUnused) refused(() => nft.apply([command]));
}
