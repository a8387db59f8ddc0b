import { deleteElements, presentElements, type NftRunner, type SetElement } from '../../lib/nft';
import { sameAttachment, type AttachmentKey, type AttachmentState } from '../../lib/state/attachment-state';
import { addTransaction, mapName, type MasqEntry } from './masquerade-rules';

const resource = (e: MasqEntry) => `masq${e.family}/${e.ip}`;
const element = (e: MasqEntry): SetElement => ({ family: 'inet', kind: 'map', set: mapName(e.family), elem: e.ip, text: e.ip });

/**
 * Masquerade entries with ownership: a map element is keyed by an address, which a later container
 * may get again, so each element has an owner (the attachment that added it last) and DEL removes
 * only the elements it still owns. Every step runs under the state lock.
 */
export class Masquerade {
  constructor(
    private readonly nft: NftRunner,
    private readonly state: AttachmentState<MasqEntry[]>,
  ) {}

  add(key: AttachmentKey, entries: MasqEntry[]): void {
    this.state.withLock(() => {
      // recorded first: a crash between the two leaves a record DEL can act on, never an orphan element
      this.state.write(key, entries);
      for (const e of entries) this.state.setOwner(resource(e), key);
      this.nft.apply(addTransaction(entries));
    });
  }

  /** Idempotent: removes what the record says this attachment still owns. */
  remove(key: AttachmentKey): void {
    this.state.withLock(() => this.removeLocked(key));
  }

  /** The attachments of `network` that have a record (for GC). */
  attachments(network: string): AttachmentKey[] {
    return this.state.withLock(() => this.state.list(network).map((r) => r.key));
  }

  private removeLocked(key: AttachmentKey): void {
    const entries = this.state.read(key) ?? [];
    const owned = entries.filter((e) => this.ownedBy(e, key));
    deleteElements(this.nft, owned.map(element));
    // only once the elements are gone: a failed DEL keeps what a retry needs
    for (const e of owned) this.state.releaseOwner(resource(e), key);
    this.state.remove(key);
  }

  /** Entries of the record that are missing from the ruleset (e.g. after `nft flush ruleset`). */
  missing(expected: MasqEntry[]): MasqEntry[] {
    return this.state.withLock(() => {
      const present = new Set(presentElements(this.nft, expected.map(element)).map((e) => `${e.set}/${e.text}`));
      return expected.filter((e) => !present.has(`${mapName(e.family)}/${e.ip}`));
    });
  }

  recorded(key: AttachmentKey): MasqEntry[] | undefined {
    return this.state.withLock(() => this.state.read(key));
  }

  private ownedBy(entry: MasqEntry, key: AttachmentKey): boolean {
    const owner = this.state.owner(resource(entry));
    return owner !== undefined && sameAttachment(owner, key);
  }
}
