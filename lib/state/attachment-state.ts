import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readdirIfExists, readJson, readJsonIfValid, removeDirIfEmpty, syncDirectory, TEMP_SUFFIX, unlinkIfExists, writeFileAtomic } from '../fs';
import { FileLock } from '../lock';
import { log } from '../log';
import type { CallArgs } from '../skel/cmd-args';

export const DEFAULT_STATE_DIR = '/var/lib/cni-ts';

/** The state root: CNI_TS_STATE_DIR or /var/lib/cni-ts (never the reference plugins' directories). */
export const stateRoot = (env: Readonly<Record<string, string | undefined>> = process.env): string => env.CNI_TS_STATE_DIR || DEFAULT_STATE_DIR;

/** What a component's state needs from an invocation: its environment (any verb's args will do). */
export type StateEnv = Pick<CallArgs, 'env'>;

export interface AttachmentKey {
  network: string;
  containerId: string;
  ifname: string;
}

/** The attachment a plugin invocation is about: network name, container id, interface name. */
export const attachmentKey = (cmd: Pick<CallArgs, 'config' | 'containerId' | 'ifname'>): AttachmentKey => ({
  network: cmd.config.name,
  containerId: cmd.containerId,
  ifname: cmd.ifname,
});

export const sameAttachment = (a: AttachmentKey, b: AttachmentKey): boolean => a.network === b.network && a.containerId === b.containerId && a.ifname === b.ifname;

const keyOf = (x: AttachmentKey): AttachmentKey => ({ network: x.network, containerId: x.containerId, ifname: x.ifname });

const isKey = (x: unknown): x is AttachmentKey => {
  const k = x as Partial<AttachmentKey> | undefined;
  return typeof k?.network === 'string' && typeof k.containerId === 'string' && typeof k.ifname === 'string';
};

/** An attachment holding (or standing by for) a resource, with the entry it installed or would install. */
export interface Holder {
  key: AttachmentKey;
  entry: unknown;
}

/** A record file's content with its key and its data (anything else is damaged). */
const isRecord = <T>(x: unknown): x is AttachmentKey & { data: T } => isKey(x) && 'data' in (x as object);

/** A record as read: `damaged` when the file exists but cannot be read (e.g. emptied by a power cut). */
export interface RecordRead<T> {
  data?: T;
  damaged: boolean;
}

/**
 * What one component (e.g. bridge's masquerade) added for each attachment, and which attachment
 * owns each shared resource (a map element keyed by an address): the record of truth for DEL,
 * CHECK, GC and re-applying rules after a flush. All access goes through withLock.
 *
 * Layout under <root>/<component>/: attachments/<network>/<digest>.json (one record per
 * attachment), owners/<resource> (the owning attachment and the entry it installed, so a DEL whose
 * record was lost still finds what it owns), groups/<group>/<resource> (empty markers: the owned
 * resources of a group, e.g. every host address holding one port, found without a listing of all).
 * Every file is written atomically and durably; a file that cannot be read counts as absent.
 */
export class AttachmentState<T> {
  private readonly dir: string;
  private readonly lock: FileLock;

  constructor(root: string, component: string) {
    this.dir = join(root, component);
    mkdirSync(join(this.dir, 'owners'), { recursive: true, mode: 0o700 });
    this.lock = new FileLock(join(this.dir, 'lock'));
  }

  withLock<R>(fn: () => R): R {
    return this.lock.with(fn);
  }

  read(key: AttachmentKey): T | undefined {
    return this.readRecord(key).data;
  }

  readRecord(key: AttachmentKey): RecordRead<T> {
    const { present, value } = readJson<AttachmentKey & { data: T }>(this.recordPath(key));
    return isRecord(value) ? { data: value.data, damaged: false } : { damaged: present };
  }

  write(key: AttachmentKey, data: T): void {
    mkdirSync(join(this.dir, 'attachments', key.network), { recursive: true, mode: 0o700 });
    writeFileAtomic(this.recordPath(key), JSON.stringify({ ...keyOf(key), data }));
  }

  remove(key: AttachmentKey): void {
    const path = this.recordPath(key);
    unlinkIfExists(path);
    // a writer killed between writing and renaming leaves its temporary beside the record
    unlinkIfExists(`${path}${TEMP_SUFFIX}`);
  }

  /**
   * Every readable record, optionally of one network. Temporaries found on the way are removed
   * (every write happens under the lock the caller holds, so they are left by killed writers).
   * Records that cannot be read are skipped but kept: their attachment's DEL needs to see one is
   * damaged to look for what it owns through the owners.
   */
  list(network?: string): Array<{ key: AttachmentKey; data: T }> {
    this.removeTemporaries(join(this.dir, 'owners'));
    const networks = network ? [network] : readdirIfExists(join(this.dir, 'attachments'));
    return networks.flatMap((net) =>
      this.removeTemporaries(join(this.dir, 'attachments', net)).flatMap((file) => {
        const path = join(this.dir, 'attachments', net, file);
        const { present, value } = readJson<AttachmentKey & { data: T }>(path);
        if (isRecord(value)) return [{ key: keyOf(value), data: value.data }];
        if (present) log.warn('skipping an attachment record that cannot be read', { path });
        return [];
      }),
    );
  }

  /** Whether `network` has any record left (readable or not), without reading them. */
  hasRecords(network: string): boolean {
    return readdirIfExists(join(this.dir, 'attachments', network)).some((f) => !f.endsWith(TEMP_SUFFIX));
  }

  /** The owner of `resource`; undefined when none, or when its file cannot be read. */
  owner(resource: string): AttachmentKey | undefined {
    return this.readOwner(resource)?.key;
  }

  /**
   * Sets `key` as the owner of `resource`, keeping the attachments that stand by for it (but `key`).
   * The marker goes first: a crash in between leaves a marker without an owner, which counts for nothing.
   */
  setOwner(resource: string, key: AttachmentKey, entry: unknown, group?: string): void {
    if (group !== undefined) {
      mkdirSync(this.groupDir(group), { recursive: true, mode: 0o700 });
      writeFileAtomic(join(this.groupDir(group), encodeURIComponent(resource)), '');
    }
    const standby = this.standbys(resource).filter((s) => !sameAttachment(s.key, key));
    this.writeOwner(resource, { key, entry }, standby);
  }

  /**
   * The attachments waiting, in the order they came, to take `resource` over when its owner
   * leaves (see OwnedEntries: a container's other attachments holding its own host port).
   */
  standbys(resource: string): Holder[] {
    return (this.readOwner(resource)?.standby ?? []).flatMap((s) => (isKey(s) && 'entry' in s ? [{ key: keyOf(s), entry: s.entry }] : []));
  }

  /** Puts `key` at the end of `resource`'s standby list (once); the resource must have an owner. */
  addStandby(resource: string, key: AttachmentKey, entry: unknown): void {
    const owner = this.readOwner(resource);
    if (!owner) return;
    const standby = this.standbys(resource).filter((s) => !sameAttachment(s.key, key));
    this.writeOwner(resource, owner, [...standby, { key, entry }]);
  }

  /** Takes `key` off `resource`'s standby list; returns whether it was on it. */
  dropStandby(resource: string, key: AttachmentKey): boolean {
    const owner = this.readOwner(resource);
    const standby = this.standbys(resource);
    const rest = standby.filter((s) => !sameAttachment(s.key, key));
    if (!owner || rest.length === standby.length) return false;
    this.writeOwner(resource, owner, rest);
    return true;
  }

  /** Drops `resource`'s owner (and group marker) when `key` holds it or nobody readable does; returns whether it did. */
  releaseOwner(resource: string, key: AttachmentKey, group?: string): boolean {
    const current = this.owner(resource);
    if (current && !sameAttachment(current, key)) return false;
    unlinkIfExists(this.ownerPath(resource));
    if (group !== undefined) {
      unlinkIfExists(join(this.groupDir(group), encodeURIComponent(resource)));
      removeDirIfEmpty(this.groupDir(group));
    }
    return true;
  }

  /** Makes the owners released so far durable. */
  syncOwners(): void {
    syncDirectory(join(this.dir, 'owners'));
  }

  /** The resources of `group` that have a readable owner. */
  groupMembers(group: string): string[] {
    return readdirIfExists(this.groupDir(group))
      .filter((f) => !f.endsWith(TEMP_SUFFIX))
      .map(decodeURIComponent)
      .filter((resource) => this.owner(resource) !== undefined);
  }

  /**
   * Every owner file's owner and standbys with the entry each recorded, optionally of one network:
   * what a DEL or GC removes when an attachment's record was lost. A listing of every owner: for that case only.
   */
  owned(network?: string): Array<{ key: AttachmentKey; resource: string; entry: unknown }> {
    return this.removeTemporaries(join(this.dir, 'owners')).flatMap((file) => {
      const resource = decodeURIComponent(file);
      const owner = this.readOwner(resource);
      const holders = owner ? [owner, ...this.standbys(resource)] : [];
      return holders.filter((h) => h.entry !== undefined && (network === undefined || h.key.network === network)).map((h) => ({ ...h, resource }));
    });
  }

  /** Deletes the temporaries in `dir`; returns the other file names. */
  private removeTemporaries(dir: string): string[] {
    const files = readdirIfExists(dir);
    for (const file of files) if (file.endsWith(TEMP_SUFFIX)) unlinkIfExists(join(dir, file));
    return files.filter((file) => !file.endsWith(TEMP_SUFFIX));
  }

  private recordPath(key: AttachmentKey): string {
    // container ids and ifnames may contain "." and "_": a digest keeps the file name unambiguous
    const digest = createHash('sha256').update(`${key.containerId}\0${key.ifname}`).digest('hex').slice(0, 32);
    return join(this.dir, 'attachments', key.network, `${digest}.json`);
  }

  private readOwner(resource: string): (Holder & { standby: unknown[] }) | undefined {
    const owner = readJsonIfValid<AttachmentKey & { entry?: unknown; standby?: unknown }>(this.ownerPath(resource));
    if (!isKey(owner)) return undefined;
    return { key: keyOf(owner), entry: owner.entry, standby: Array.isArray(owner.standby) ? owner.standby : [] };
  }

  private writeOwner(resource: string, owner: Holder, standby: Holder[]): void {
    const holder = (h: Holder) => ({ ...keyOf(h.key), entry: h.entry });
    writeFileAtomic(this.ownerPath(resource), JSON.stringify({ ...holder(owner), ...(standby.length ? { standby: standby.map(holder) } : {}) }));
  }

  private ownerPath(resource: string): string {
    return join(this.dir, 'owners', encodeURIComponent(resource));
  }

  private groupDir(group: string): string {
    return join(this.dir, 'groups', encodeURIComponent(group));
  }
}
