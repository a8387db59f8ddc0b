import type { AttachmentState } from '../state/attachment-state';
import { OwnedEntries, type EntrySpec } from '../state/owned-entries';
import { deleteElements, presentElements, type SetElement } from './elements';
import type { NftCommand, NftRunner } from './runner';
import { brokenChains, type Structure } from './structure';

export { ResourceTakenError } from '../state/owned-entries';

/** How one component turns its entries into elements of the suite's nftables table. */
export interface ElementSpec<E> extends Pick<EntrySpec<E>, 'resource' | 'shared' | 'group' | 'conflicts'> {
  elements(entry: E): SetElement[];
  /** Installs the entries (and the fixed structure they need) as one transaction. */
  install(nft: NftRunner, entries: E[]): void;
  /** What removes a group's structure once its last member is gone (e.g. a subnet's chain). */
  teardown?(group: string): NftCommand[];
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
    install: (entries) => spec.install(nft, entries),
    uninstall: (entries, emptiedGroups) =>
      deleteElements(
        nft,
        entries.flatMap((e) => spec.elements(e)),
        emptiedGroups.flatMap((g) => spec.teardown?.(g) ?? []),
      ),
    brokenStructure: spec.structure && ((entries) => brokenChains(nft, spec.structure!(entries))),
    missing: (entries) => {
      const present = new Set(presentElements(nft, entries.flatMap((e) => spec.elements(e))).map(elementId));
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

const elementId = (e: SetElement) => `${e.family} ${e.set} ${e.text}`;
