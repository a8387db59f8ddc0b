import { NftError } from '../../lib/errors';
import { elementKeys, listMap, type NftRunner } from '../../lib/nft';
import { sameAttachment, type AttachmentKey, type AttachmentState } from '../../lib/state/attachment-state';
import { addTransaction, deleteElementCommands, mapName, type MasqEntry } from './masquerade-rules';

const resource = (e: MasqEntry) => `masq${e.family}/${e.ip}`;

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

  /** Removes the entries of every attachment of `network` that `isValid` rejects (CNI GC). */
  collectGarbage(network: string, isValid: (key: AttachmentKey) => boolean): { removed: AttachmentKey[]; failures: string[] } {
    return this.state.withLock(() => {
      const removed: AttachmentKey[] = [];
      const failures: string[] = [];
      for (const { key } of this.state.list(network)) {
        if (isValid(key)) continue;
        try {
          this.removeLocked(key);
          removed.push(key);
        } catch (err) {
          failures.push(`${key.containerId}/${key.ifname}: ${(err as Error).message}`);
        }
      }
      return { removed, failures };
    });
  }

  private removeLocked(key: AttachmentKey): void {
    const entries = this.state.read(key) ?? [];
    const owned = entries.filter((e) => this.ownedBy(e, key));
    this.deleteElements(owned);
    // only once the elements are gone: a failed DEL keeps what a retry needs
    for (const e of owned) this.state.releaseOwner(resource(e), key);
    this.state.remove(key);
  }

  /** Entries of the record that are missing from the ruleset (e.g. after `nft flush ruleset`). */
  missing(key: AttachmentKey, expected: MasqEntry[]): MasqEntry[] {
    return this.state.withLock(() => {
      const present = new Set([4, 6].flatMap((f) => this.listKeys(f as 4 | 6).map((ip) => `${f}/${ip}`)));
      return expected.filter((e) => !present.has(`${e.family}/${e.ip}`));
    });
  }

  recorded(key: AttachmentKey): MasqEntry[] | undefined {
    return this.state.withLock(() => this.state.read(key));
  }

  private ownedBy(entry: MasqEntry, key: AttachmentKey): boolean {
    const owner = this.state.owner(resource(entry));
    return owner !== undefined && sameAttachment(owner, key);
  }

  private deleteElements(entries: MasqEntry[]): void {
    if (!entries.length) return;
    try {
      this.nft.apply(deleteElementCommands(entries));
    } catch (err) {
      if (!(err instanceof NftError)) throw err;
      // some element was already gone (a flushed ruleset): delete only those still present
      const present = entries.filter((e) => this.listKeys(e.family).includes(e.ip));
      this.nft.apply(deleteElementCommands(present));
    }
  }

  private listKeys(family: 4 | 6): string[] {
    try {
      return elementKeys(this.nft.list(listMap(mapName(family))));
    } catch (err) {
      if (err instanceof NftError) return []; // no table yet: nothing of ours is there
      throw err;
    }
  }
}
