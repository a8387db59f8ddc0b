import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readdirIfExists, readFileIfExists, unlinkIfExists } from '../fs';
import { FileLock } from '../lock';
import type { CmdArgs } from '../skel/cmd-args';

export const DEFAULT_STATE_DIR = '/var/lib/cni-ts';

// every write happens under the lock, so one fixed temporary name per file is enough
const TEMP_SUFFIX = '.tmp';

/** The state root: CNI_TS_STATE_DIR or /var/lib/cni-ts (never the reference plugins' directories). */
export const stateRoot = (env: Readonly<Record<string, string | undefined>> = process.env): string => env.CNI_TS_STATE_DIR || DEFAULT_STATE_DIR;

/** What a component's state needs from an invocation: its environment (a CmdArgs will do). */
export type StateEnv = Pick<CmdArgs, 'env'>;

export interface AttachmentKey {
  network: string;
  containerId: string;
  ifname: string;
}

/** The attachment a plugin invocation is about: network name, container id, interface name. */
export const attachmentKey = (cmd: Pick<CmdArgs, 'config' | 'containerId' | 'ifname'>): AttachmentKey => ({
  network: cmd.config.name,
  containerId: cmd.containerId,
  ifname: cmd.ifname,
});

export const sameAttachment = (a: AttachmentKey, b: AttachmentKey): boolean =>
  a.network === b.network && a.containerId === b.containerId && a.ifname === b.ifname;

/**
 * What one component (e.g. bridge's masquerade) added for each attachment, and which attachment
 * owns each shared resource (a map element keyed by an address): the record of truth for DEL,
 * CHECK, GC and re-applying rules after a flush. All access goes through withLock.
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
    const text = readFileIfExists(this.recordPath(key));
    return text === undefined ? undefined : (JSON.parse(text) as { data: T }).data;
  }

  write(key: AttachmentKey, data: T): void {
    mkdirSync(join(this.dir, 'attachments', key.network), { recursive: true, mode: 0o700 });
    this.writeAtomically(this.recordPath(key), JSON.stringify({ ...key, data }));
  }

  remove(key: AttachmentKey): void {
    const path = this.recordPath(key);
    unlinkIfExists(path);
    // a writer killed between writing and renaming leaves its temporary beside the record
    unlinkIfExists(`${path}${TEMP_SUFFIX}`);
  }

  /**
   * Every record, optionally of one network. Temporaries found on the way are removed: every
   * write happens under the lock the caller holds, so they are left by killed writers.
   */
  list(network?: string): Array<{ key: AttachmentKey; data: T }> {
    this.removeTemporaries(join(this.dir, 'owners'));
    const networks = network ? [network] : readdirIfExists(join(this.dir, 'attachments'));
    return networks.flatMap((net) =>
      this.removeTemporaries(join(this.dir, 'attachments', net)).flatMap((file) => {
        const text = readFileIfExists(join(this.dir, 'attachments', net, file));
        if (text === undefined) return [];
        const { network: n, containerId, ifname, data } = JSON.parse(text) as AttachmentKey & { data: T };
        return [{ key: { network: n, containerId, ifname }, data }];
      }),
    );
  }

  owner(resource: string): AttachmentKey | undefined {
    const text = readFileIfExists(this.ownerPath(resource));
    return text === undefined ? undefined : (JSON.parse(text) as AttachmentKey);
  }

  setOwner(resource: string, key: AttachmentKey): void {
    this.writeAtomically(this.ownerPath(resource), JSON.stringify(key));
  }

  /** Drops the ownership of `resource` if `key` holds it; returns whether it did. */
  releaseOwner(resource: string, key: AttachmentKey): boolean {
    const current = this.owner(resource);
    if (!current || !sameAttachment(current, key)) return false;
    unlinkIfExists(this.ownerPath(resource));
    return true;
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

  private ownerPath(resource: string): string {
    return join(this.dir, 'owners', encodeURIComponent(resource));
  }

  private writeAtomically(path: string, content: string): void {
    const temp = `${path}${TEMP_SUFFIX}`;
    writeFileSync(temp, content, { mode: 0o600 });
    renameSync(temp, path);
  }
}
