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

/** The elements, of those given, that the kernel has (a missing table or set means none). */
export function presentElements(nft: NftRunner, elements: SetElement[]): SetElement[] {
  const listed = new Map<string, Set<string>>();
  for (const e of elements) {
    const id = `${e.family} ${e.kind} ${e.set}`;
    if (listed.has(id)) continue;
    let keys: string[] = [];
    try {
      const entry = nft
        .list(`list ${e.kind} ${e.family} ${TABLE.name} ${e.set}`)
        .find((x) => typeof x === 'object' && x !== null && ('set' in x || 'map' in x)) as { set?: { elem?: unknown[] }; map?: { elem?: unknown[] } } | undefined;
      keys = ((entry?.set ?? entry?.map)?.elem ?? []).map(keyText);
    } catch (err) {
      if (!(err instanceof NftError)) throw err;
    }
    listed.set(id, new Set(keys));
  }
  return elements.filter((e) => listed.get(`${e.family} ${e.kind} ${e.set}`)!.has(e.text));
}

/**
 * Deletes the elements, then runs `after` (e.g. deleting a chain they were the last to jump to),
 * in one transaction. If nftables refuses (an element or chain already gone, e.g. after `nft flush
 * ruleset`, or a chain still in use by entries this suite has no record of), deletes the elements
 * still present, then tries each of `after` on its own, ignoring refusals. Idempotent.
 */
export function deleteElements(nft: NftRunner, elements: SetElement[], after: NftCommand[] = []): void {
  if (!elements.length && !after.length) return;
  try {
    nft.apply([...deleteCommands(elements), ...after]);
  } catch (err) {
    if (!(err instanceof NftError)) throw err;
    nft.apply(deleteCommands(presentElements(nft, elements)));
    for (const command of after) {
      try {
        nft.apply([command]);
      } catch (refused) {
        if (!(refused instanceof NftError)) throw refused;
      }
    }
  }
}
