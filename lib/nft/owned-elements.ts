import { sameAttachment, type AttachmentKey, type AttachmentState } from '../state/attachment-state';
import { deleteElements, presentElements, type SetElement } from './elements';
import type { NftRunner } from './runner';

/** How one component turns its entries into nftables elements and shared resources. */
export interface ElementSpec<E> {
  /** What the entry claims on the host, e.g. "masq4/10.88.0.2": a later attachment may claim it again. */
  resource(entry: E): string;
  elements(entry: E): SetElement[];
  /** Installs the entries (and the fixed structure they need) as one transaction. */
  install(nft: NftRunner, entries: E[]): void;
}

/** Thrown by `add` when an exclusive resource is held by another attachment. */
export class ResourceTakenError<E> extends Error {
  constructor(
    readonly entry: E,
    readonly owner: AttachmentKey,
  ) {
    super(`taken by container ${owner.containerId} (${owner.ifname}) of network ${owner.network}`);
  }
}

/**
 * nftables elements with owners. An element is keyed by what a packet carries (an address, a
 * port), which a later container may get again, so each resource has an owner (the attachment
 * that claimed it last) and an attachment removes only the elements it still owns. Every step
 * runs under the component's state lock; the attachment's record is the truth for DEL, CHECK,
 * GC and re-applying rules after a flush.
 */
export class OwnedElements<E> {
  constructor(
    private readonly nft: NftRunner,
    private readonly state: AttachmentState<E[]>,
    private readonly spec: ElementSpec<E>,
  ) {}

  /**
   * Records and installs the attachment's entries. Entries for which `exclusive` holds fail with
   * ResourceTakenError when another attachment owns their resource; the others are taken over.
   */
  add(key: AttachmentKey, entries: E[], exclusive: (entry: E) => boolean = () => false): void {
    this.state.withLock(() => {
      for (const entry of entries.filter(exclusive)) {
        const owner = this.state.owner(this.spec.resource(entry));
        if (owner && !sameAttachment(owner, key)) throw new ResourceTakenError(entry, owner);
      }
      // a repeated ADD may carry fewer entries: drop the ones it no longer wants first
      const wanted = new Set(entries.map((e) => this.spec.resource(e)));
      this.removeOwned(key, (this.state.read(key) ?? []).filter((e) => !wanted.has(this.spec.resource(e))));
      // recorded before installing: a crash in between leaves a record DEL can act on, never an orphan element
      this.state.write(key, entries);
      for (const e of entries) this.state.setOwner(this.spec.resource(e), key);
      this.spec.install(this.nft, entries);
    });
  }

  /** Idempotent: removes what the record says this attachment still owns, then the record. */
  remove(key: AttachmentKey): void {
    this.state.withLock(() => {
      this.removeOwned(key, this.state.read(key) ?? []);
      this.state.remove(key);
    });
  }

  /** The attachments of `network` that have a record (for GC). */
  attachments(network: string): AttachmentKey[] {
    return this.state.withLock(() => this.state.list(network).map((r) => r.key));
  }

  recorded(key: AttachmentKey): E[] | undefined {
    return this.state.withLock(() => this.state.read(key));
  }

  /** Entries whose elements are not all in the ruleset (e.g. after `nft flush ruleset`). */
  missing(entries: E[]): E[] {
    return this.state.withLock(() => {
      const present = new Set(presentElements(this.nft, entries.flatMap((e) => this.spec.elements(e))).map(elementId));
      return entries.filter((e) => !this.spec.elements(e).every((el) => present.has(elementId(el))));
    });
  }

  private removeOwned(key: AttachmentKey, entries: E[]): void {
    const owned = entries.filter((e) => {
      const owner = this.state.owner(this.spec.resource(e));
      return owner !== undefined && sameAttachment(owner, key);
    });
    deleteElements(this.nft, owned.flatMap((e) => this.spec.elements(e)));
    // only once the elements are gone: a failed DEL keeps what a retry needs
    for (const e of owned) this.state.releaseOwner(this.spec.resource(e), key);
  }
}

const elementId = (e: SetElement) => `${e.family} ${e.set} ${e.text}`;
