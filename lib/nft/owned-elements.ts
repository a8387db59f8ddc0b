import type { AttachmentState } from '../state/attachment-state';
import type { StrayEntry } from '../state/recorded-component';
import { OwnedEntries, type EntrySpec } from '../state/owned-entries';
import { deleteElements, presentElements } from './elements';
import type { NftCommand, NftRunner } from './runner';
import type { NftSet, SetElement } from './set';
import { brokenChains, type Structure } from './structure';

export { ResourceTakenError } from '../state/owned-entries';

/** How one component turns its entries into elements of the suite's nftables table. */
export interface ElementSpec<E> extends Pick<EntrySpec<E>, 'resource' | 'shared' | 'group' | 'conflicts' | 'sibling'> {
  elements(entry: E): SetElement[];
  /**
   * Installs the entries (and the fixed structure they need) as one transaction, which also
   * deletes the elements of `replacing` (a handover of the same keys, see EntrySpec.sibling).
   */
  install(nft: NftRunner, entries: E[], replacing: E[]): void;
  /**
   * Structure the entries may have been the last to use (e.g. a subnet's chain their map elements
   * jump to), deleted in the same transaction as the elements; nftables refuses while another
   * element still uses it, and then the elements go alone. The kernel's use count decides, so
   * no DEL lists the other containers; where it cannot (a map's elements), `nft` may list.
   */
  releaseWith?(entries: E[], nft: NftRunner): NftCommand[];
  /** The fixed structure the entries' traffic depends on, for CHECK. */
  structure?(entries: E[]): Structure;
}

/** An EntrySpec whose entries are set and map elements. */
export function elementEntries<E>(nft: NftRunner, spec: ElementSpec<E>): EntrySpec<E> {
  return {
    resource: (e) => spec.resource(e),
    shared: spec.shared && ((e) => spec.shared!(e)),
    group: spec.group && ((e) => spec.group!(e)),
    conflicts: spec.conflicts && ((e, held) => spec.conflicts!(e, held)),
    sibling: spec.sibling && ((owner, key) => spec.sibling!(owner, key)),
    install: (entries, replacing) => spec.install(nft, entries, replacing ?? []),
    uninstall: (entries) =>
      deleteElements(
        nft,
        entries.flatMap((e) => spec.elements(e)),
        entries.length ? (spec.releaseWith?.(entries, nft) ?? []) : [],
      ),
    brokenStructure: spec.structure && ((entries) => brokenChains(nft, spec.structure!(entries))),
    missing: (entries) => {
      const present = new Set(
        presentElements(
          nft,
          entries.flatMap((e) => spec.elements(e)),
        ).map(elementId),
      );
      return entries.filter((e) => !spec.elements(e).every((el) => present.has(elementId(el))));
    },
  };
}

/** nftables elements with owners (see OwnedEntries). */
export class OwnedElements<E> extends OwnedEntries<E> {
  constructor(nft: NftRunner, state: AttachmentState<E[]>, spec: ElementSpec<E>) {
    super(state, elementEntries(nft, spec));
  }
}

/** The elements of `sets` that no record of `owned` holds: left by a crash or added by hand. */
export function strayElements<E>(nft: NftRunner, owned: OwnedEntries<E>, spec: ElementSpec<E>, sets: NftSet[]): StrayEntry[] {
  const known = new Set(owned.records().flatMap((r) => r.data.flatMap((e) => spec.elements(e).map((el) => `${el.set.name} ${el.listedKey}`))));
  return sets.flatMap((set) =>
    set
      .listedKeys(nft)
      .filter((key) => !known.has(`${set.name} ${key}`))
      .map((key) => ({ where: set.textName, key, fix: set.deleteListedCommand(key) })),
  );
}

const elementId = (e: SetElement) => `${e.set.family} ${e.set.name} ${e.listedKey}`;
