import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNodeErrorCode } from '../errors';
import { FileLock } from '../lock';

export const DEFAULT_STATE_DIR = '/var/lib/cni-ts';

/** The state root: CNI_TS_STATE_DIR or /var/lib/cni-ts (never the reference plugins' directories). */
export const stateRoot = (env: Readonly<Record<string, string | undefined>> = process.env): string => env.CNI_TS_STATE_DIR || DEFAULT_STATE_DIR;

export interface AttachmentKey {
  network: string;
  containerId: string;
  ifname: string;
}

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
    const text = this.readIfExists(this.recordPath(key));
    return text === undefined ? undefined : (JSON.parse(text) as { data: T }).data;
  }

  write(key: AttachmentKey, data: T): void {
    mkdirSync(join(this.dir, 'attachments', key.network), { recursive: true, mode: 0o700 });
    this.writeAtomically(this.recordPath(key), JSON.stringify({ ...key, data }));
  }

  remove(key: AttachmentKey): void {
    this.unlinkIfExists(this.recordPath(key));
  }

  /** Every record, optionally of one network. */
  list(network?: string): Array<{ key: AttachmentKey; data: T }> {
    const networks = network ? [network] : this.readdir(join(this.dir, 'attachments'));
    return networks.flatMap((net) =>
      this.readdir(join(this.dir, 'attachments', net)).flatMap((file) => {
        const text = this.readIfExists(join(this.dir, 'attachments', net, file));
        if (text === undefined) return [];
        const { network: n, containerId, ifname, data } = JSON.parse(text) as AttachmentKey & { data: T };
        return [{ key: { network: n, containerId, ifname }, data }];
      }),
    );
  }

  owner(resource: string): AttachmentKey | undefined {
    const text = this.readIfExists(this.ownerPath(resource));
    return text === undefined ? undefined : (JSON.parse(text) as AttachmentKey);
  }

  setOwner(resource: string, key: AttachmentKey): void {
    this.writeAtomically(this.ownerPath(resource), JSON.stringify(key));
  }

  /** Drops the ownership of `resource` if `key` holds it; returns whether it did. */
  releaseOwner(resource: string, key: AttachmentKey): boolean {
    const current = this.owner(resource);
    if (!current || !sameAttachment(current, key)) return false;
    this.unlinkIfExists(this.ownerPath(resource));
    return true;
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
    const temp = `${path}.tmp-${process.pid}`;
    writeFileSync(temp, content, { mode: 0o600 });
    renameSync(temp, path);
  }

  private readIfExists(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      if (isNodeErrorCode(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  private readdir(path: string): string[] {
    try {
      return readdirSync(path).filter((f) => !f.includes('.tmp-'));
    } catch (err) {
      if (isNodeErrorCode(err, 'ENOENT')) return [];
      throw err;
    }
  }

  private unlinkIfExists(path: string): void {
    try {
      unlinkSync(path);
    } catch (err) {
      if (!isNodeErrorCode(err, 'ENOENT')) throw err;
    }
  }
}
