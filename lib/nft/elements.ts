import { NftError } from '../errors';
import type { NftCommand, NftRunner } from './runner';
import { TABLE } from './table';

/** One element of a set or map of the suite's table in `family`, as sent (`elem`) and as listed (`text`). */
export interface SetElement {
  family: 'inet' | 'bridge';
  kind: 'set' | 'map';
  set: string;
  elem: unknown;
  text: string;
}

const tableOf = (e: SetElement) => ({ family: e.family, table: TABLE.name, name: e.set });

export const deleteCommands = (elements: SetElement[]): NftCommand[] => elements.map((e) => ({ delete: { element: { ...tableOf(e), elem: [e.elem] } } }));

/** Listed keys of a set or map: plain keys, map [key, value] pairs, concatenations "a . b", prefixes "a/n". */
function keyText(element: unknown): string {
  const value = Array.isArray(element) ? element[0] : element;
  if (value && typeof value === 'object') {
    const v = value as { concat?: unknown[]; elem?: { val?: unknown }; prefix?: { addr: string; len: number } };
    if (v.concat) return v.concat.map(keyText).join(' . ');
    if (v.elem) return keyText(v.elem.val);
    if (v.prefix) return `${v.prefix.addr}/${v.prefix.len}`;
  }
  return String(value);
}

/** The keys of one set or map of the suite's table, as `SetElement.text` spells them (a missing table or set has none). */
export function listedKeys(nft: NftRunner, family: SetElement['family'], kind: SetElement['kind'], set: string): string[] {
  try {
    const entry = nft.list(`list ${kind} ${family} ${TABLE.name} ${set}`).find((x) => typeof x === 'object' && x !== null && ('set' in x || 'map' in x)) as
      | { set?: { elem?: unknown[] }; map?: { elem?: unknown[] } }
      | undefined;
    return ((entry?.set ?? entry?.map)?.elem ?? []).map(keyText);
  } catch (err) {
    if (err instanceof NftError) return [];
    throw err;
  }
}

/** The elements, of those given, that the kernel has (a missing table or set means none). */
export function presentElements(nft: NftRunner, elements: SetElement[]): SetElement[] {
  const listed = new Map<string, Set<string>>();
  for (const e of elements) {
    const id = `${e.family} ${e.kind} ${e.set}`;
    if (!listed.has(id)) listed.set(id, new Set(listedKeys(nft, e.family, e.kind, e.set)));
  }
  return elements.filter((e) => listed.get(`${e.family} ${e.kind} ${e.set}`)!.has(e.text));
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
