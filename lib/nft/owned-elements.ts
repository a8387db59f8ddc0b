import type { AttachmentState } from '../state/attachment-state';
import { OwnedEntries, type EntrySpec } from '../state/owned-entries';
import { deleteElements, presentElements, type SetElement } from './elements';
import type { NftRunner } from './runner';

export { ResourceTakenError } from '../state/owned-entries';

/** How one component turns its entries into elements of the suite's nftables table. */
export interface ElementSpec<E> {
  resource(entry: E): string;
  shared?(entry: E): boolean;
  elements(entry: E): SetElement[];
  /** Installs the entries (and the fixed structure they need) as one transaction. */
  install(nft: NftRunner, entries: E[]): void;
}

/** An EntrySpec whose entries are set and map elements. */
export function elementEntries<E>(nft: NftRunner, spec: ElementSpec<E>): EntrySpec<E> {
  return {
    resource: (e) => spec.resource(e),
    shared: spec.shared && ((e) => spec.shared!(e)),
    install: (entries) => spec.install(nft, entries),
    uninstall: (entries) => deleteElements(nft, entries.flatMap((e) => spec.elements(e))),
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
