import { sameAttachment, type AttachmentKey, type AttachmentState, type Holder } from './attachment-state';

/** Where a component's entries live on the host (nftables elements, iptables rules, …). */
export interface EntrySpec<E> {
  /** What the entry claims on the host, e.g. "masq4/10.88.0.2": a later attachment may claim it again. */
  resource(entry: E): string;
  /**
   * A shared entry (e.g. a bridge's isolation) belongs to every attachment that records it: it
   * stays while any other record holds the same resource, and ownership does not apply.
   */
  shared?(entry: E): boolean;
  /**
   * The group of an owned entry: resources that compete for one thing (every host address of one
   * port); `conflicts` decides between members. Groups stay small: they are listed on ADD.
   */
  group?(entry: E): string | undefined;
  /**
   * For an exclusive entry: whether `held`, a resource of the same group owned by another
   * attachment, rules the entry out. Default: only the same resource does.
   */
  conflicts?(entry: E, held: string): boolean;
  /**
   * Whether `key` may stand by for an exclusive resource `owner` holds instead of being refused
   * (portmap: another attachment of the same container). A standby is recorded but not installed;
   * when the owner leaves, the first standby takes the resource over (`install` with `replacing`).
   */
  sibling?(owner: AttachmentKey, key: AttachmentKey): boolean;
  /**
   * Installs the entries (and whatever fixed structure they need). `replacing`: entries of an
   * attachment leaving the same resources, removed in the same step (only with `sibling`).
   */
  install(entries: E[], replacing?: E[]): void;
  /** Removes the entries (and structure only they used); entries already gone are not an error. */
  uninstall(entries: E[]): void;
  /** The entries, of those given, that are not (all) on the host, e.g. after `nft flush ruleset`. */
  missing(entries: E[]): E[];
  /** What is wrong with the fixed structure (chains, rules) the entries depend on; empty when intact. */
  brokenStructure?(entries: E[]): string[];
}

/** Thrown by `add` when an exclusive resource is held by another attachment. */
export class ResourceTakenError<E> extends Error {
  constructor(
    readonly entry: E,
    readonly owner: AttachmentKey,
    readonly held: string,
  ) {
    super(`taken by container ${owner.containerId} (${owner.ifname}) of network ${owner.network}`);
  }
}

/**
 * Host entries with owners. An entry is keyed by what a packet carries (an address, a port),
 * which a later container may get again, so each resource has an owner (the attachment that
 * claimed it last) and an attachment removes only the entries it still owns. Every step runs
 * under the component's state lock; the attachment's record is the truth for DEL, CHECK, GC
 * and re-applying rules after a flush, and the owners are the fallback when a record was lost.
 */
export class OwnedEntries<E> {
  constructor(
    private readonly state: AttachmentState<E[]>,
    private readonly spec: EntrySpec<E>,
  ) {}

  /**
   * Records and installs the attachment's entries. Entries for which `exclusive` holds fail with
   * ResourceTakenError when another attachment owns a conflicting resource; the others are taken over.
   */
  add(key: AttachmentKey, entries: E[], exclusive: (entry: E) => boolean = () => false): void {
    this.state.withLock(() => {
      for (const entry of entries.filter(exclusive)) this.assertFree(key, entry);
      // a repeated ADD may carry fewer entries, or the same resources with other data (another
      // firewalld zone, other portmap conditions): drop what it no longer wants exactly, first
      const wanted = new Set(entries.map((e) => JSON.stringify(e)));
      this.removeOwned(
        key,
        (this.state.read(key) ?? []).filter((e) => !wanted.has(JSON.stringify(e))),
      );
      // recorded before installing: a crash in between leaves a record DEL can act on, never an orphan entry
      this.state.write(key, entries);
      const claimed = entries.filter((e) => this.claim(key, e, exclusive(e)));
      try {
        this.spec.install(claimed);
      } catch (err) {
        // a failed ADD leaves nothing: what got installed before the failure goes again
        try {
          this.removeOwned(key, entries);
          this.state.remove(key);
        } catch {
          // the record stays, so a DEL or GC can finish the job
        }
        throw err;
      }
    });
  }

  /**
   * Idempotent: removes what the record says this attachment still owns, then the record. When
   * the record cannot be read (a power cut), the owners say what it owns.
   */
  remove(key: AttachmentKey): void {
    this.removeWith(key, (damaged) => damaged);
  }

  /** GC: as remove, and an attachment known only as an owner (its record lost) is removed too. */
  collect(key: AttachmentKey): void {
    this.removeWith(key, () => true);
  }

  /** The attachments of `network` that have a record or own something (for GC). */
  attachments(network: string): AttachmentKey[] {
    return this.state.withLock(() => {
      const keys = new Map<string, AttachmentKey>();
      for (const k of [...this.state.list(network).map((r) => r.key), ...this.state.owned(network).map((o) => o.key)]) {
        keys.set(JSON.stringify([k.containerId, k.ifname]), k);
      }
      return [...keys.values()];
    });
  }

  /** Every readable record, of every network (for an operator's listing). */
  records(): Array<{ key: AttachmentKey; data: E[] }> {
    return this.state.withLock(() => this.state.list());
  }

  recorded(key: AttachmentKey): E[] | undefined {
    return this.state.withLock(() => this.state.read(key));
  }

  /** Whether the attachment stands by for the entry's resource, held by a sibling attachment (see EntrySpec.sibling). */
  standsBy(key: AttachmentKey, entry: E): boolean {
    return this.state.withLock(() => this.state.standbys(this.spec.resource(entry)).some((s) => sameAttachment(s.key, key)));
  }

  /** The entries, of those expected, that the attachment's record does not hold (for CHECK). */
  unrecorded(key: AttachmentKey, expected: E[]): E[] {
    const recorded = new Set((this.recorded(key) ?? []).map((e) => this.spec.resource(e)));
    return expected.filter((e) => !recorded.has(this.spec.resource(e)));
  }

  missing(entries: E[]): E[] {
    return this.state.withLock(() => this.spec.missing(entries));
  }

  /** For CHECK: the chains and rules the entries depend on that are missing or changed. */
  brokenStructure(entries: E[]): string[] {
    if (!entries.length || !this.spec.brokenStructure) return [];
    return this.state.withLock(() => this.spec.brokenStructure!(entries));
  }

  /**
   * Installs again, in one go, every entry of every record that its attachment still owns (and
   * every shared entry): after `nft flush ruleset` or a firewall reload, without re-running ADD.
   * Returns how many entries it installed.
   */
  reapply(): number {
    return this.state.withLock(() => {
      const entries = new Map<string, E>();
      for (const { key, data } of this.state.list()) {
        for (const e of data) {
          const resource = this.spec.resource(e);
          const owner = this.state.owner(resource);
          if (this.isShared(e) || (owner && sameAttachment(owner, key))) entries.set(resource, e);
        }
      }
      if (entries.size) this.spec.install([...entries.values()]);
      return entries.size;
    });
  }

  private removeWith(key: AttachmentKey, askOwners: (damaged: boolean) => boolean): void {
    this.state.withLock(() => {
      const record = this.state.readRecord(key);
      this.removeOwned(key, record.data ?? (askOwners(record.damaged) ? this.ownedWithoutRecord(key) : []));
      this.state.remove(key);
    });
  }

  private isShared(e: E): boolean {
    return this.spec.shared?.(e) ?? false;
  }

  private assertFree(key: AttachmentKey, entry: E): void {
    const resource = this.spec.resource(entry);
    const group = this.spec.group?.(entry);
    const candidates = group === undefined ? [resource] : [resource, ...this.state.groupMembers(group).filter((m) => m !== resource)];
    for (const held of candidates) {
      if (held !== resource && !this.spec.conflicts?.(entry, held)) continue;
      const owner = this.state.owner(held);
      if (owner && !sameAttachment(owner, key) && !this.spec.sibling?.(owner, key)) throw new ResourceTakenError(entry, owner, held);
    }
  }

  /** Makes `key` the owner of the entry's resource; false when it stands by for a sibling instead (not to be installed). */
  private claim(key: AttachmentKey, entry: E, exclusive: boolean): boolean {
    if (this.isShared(entry)) return true;
    const resource = this.spec.resource(entry);
    const owner = this.state.owner(resource);
    if (exclusive && owner && !sameAttachment(owner, key) && this.spec.sibling?.(owner, key)) {
      this.state.addStandby(resource, key, entry);
      return false;
    }
    this.state.setOwner(resource, key, entry, this.spec.group?.(entry));
    return true;
  }

  /**
   * Removes the entries this attachment owns (an entry whose owner cannot be read counts: its
   * last owner is gone or unknown), and the structure of groups it leaves empty, then releases
   * them. A resource with a standby is handed over to it in one step instead; where the
   * attachment itself stands by, it only leaves the list.
   */
  private removeOwned(key: AttachmentKey, entries: E[]): void {
    const sharedElsewhere = this.sharedResourcesOfOthers(key, entries);
    const released: E[] = [];
    const handovers: Array<{ from: E; to: Holder & { entry: E } }> = [];
    for (const e of entries) {
      const resource = this.spec.resource(e);
      if (this.isShared(e)) {
        if (!sharedElsewhere.has(resource)) released.push(e);
        continue;
      }
      const owner = this.state.owner(resource);
      if (owner !== undefined && !sameAttachment(owner, key)) {
        this.state.dropStandby(resource, key);
        continue;
      }
      const next = this.nextStandby(resource, key);
      if (next) handovers.push({ from: e, to: next });
      else released.push(e);
    }
    this.spec.uninstall(released);
    if (handovers.length) {
      this.spec.install(
        handovers.map((h) => h.to.entry),
        handovers.map((h) => h.from),
      );
    }
    // only once the kernel has changed: a failed DEL keeps what a retry needs
    for (const e of released) if (!this.isShared(e)) this.state.releaseOwner(this.spec.resource(e), key, this.spec.group?.(e));
    for (const { to } of handovers) this.state.setOwner(this.spec.resource(to.entry), to.key, to.entry, this.spec.group?.(to.entry));
    // a released owner that came back after a power cut would hold its port against every later container
    if (released.length || handovers.length) this.state.syncOwners();
  }

  /**
   * The first standby of `resource` (other than `leaving`) whose record still holds it, with the
   * entry its record has; standbys whose record is gone (a DEL that lost it) are passed over.
   */
  private nextStandby(resource: string, leaving: AttachmentKey): (Holder & { entry: E }) | undefined {
    for (const { key } of this.state.standbys(resource)) {
      if (sameAttachment(key, leaving)) continue;
      const entry = this.state.read(key)?.find((e) => this.spec.resource(e) === resource);
      if (entry !== undefined) return { key, entry };
    }
    return undefined;
  }

  private ownedWithoutRecord(key: AttachmentKey): E[] {
    return this.state
      .owned(key.network)
      .filter((o) => sameAttachment(o.key, key))
      .map((o) => o.entry as E);
  }

  private sharedResourcesOfOthers(key: AttachmentKey, entries: E[]): Set<string> {
    if (!entries.some((e) => this.isShared(e))) return new Set();
    return new Set(
      this.state
        .list()
        .filter((r) => !sameAttachment(r.key, key))
        .flatMap((r) => r.data.filter((e) => this.isShared(e)).map((e) => this.spec.resource(e))),
    );
  }
}
