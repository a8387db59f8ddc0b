import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TEMP_SUFFIX, readJson, readdirIfExists, syncDirectory, unlinkIfExists, writeFileAtomic } from '../../lib/fs';
import { FileLock } from '../../lib/lock';
import { log } from '../../lib/log';
import { parseWith } from '../../lib/types';
import { LeaseRecord } from './lease';

/** Where the daemon keeps its leases unless -leasedir says otherwise. */
export const DEFAULT_LEASE_DIR = '/var/lib/cni-ts/dhcp';

const SUFFIX = '.json';

/** A file name for a client id (which may hold any character): the lease's, and its released marker's. */
export const clientFileStem = (clientId: string): string => createHash('sha256').update(clientId).digest('hex').slice(0, 40);

/**
 * The daemon's leases on disk: one file per lease, named by a hash of its client id, written
 * atomically (lib/fs writeFileAtomic) at every grant and renewal, removed on release. A lock file
 * keeps a second daemon off the same directory.
 */
export class LeaseStore {
  private readonly lock: FileLock;

  constructor(readonly dir: string) {
    this.lock = new FileLock(join(dir, '.lock'));
  }

  /** Creates the directory and takes its lock, or throws LockTimeoutError when another daemon holds it. */
  open(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.lock.acquire(0);
  }

  close(): void {
    this.lock.release();
  }

  private pathOf(clientId: string): string {
    return join(this.dir, clientFileStem(clientId) + SUFFIX);
  }

  save(record: LeaseRecord): void {
    writeFileAtomic(this.pathOf(record.clientId), `${JSON.stringify(record)}\n`);
  }

  remove(clientId: string): void {
    unlinkIfExists(this.pathOf(clientId));
    syncDirectory(this.dir);
  }

  /** Every lease that can be read; a damaged file is logged and removed, a leftover temporary removed. */
  load(): LeaseRecord[] {
    const records: LeaseRecord[] = [];
    for (const name of readdirIfExists(this.dir)) {
      const path = join(this.dir, name);
      if (name.endsWith(TEMP_SUFFIX)) {
        unlinkIfExists(path);
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      const read = readJson<unknown>(path);
      try {
        const record = parseWith(LeaseRecord, read.value, `lease file ${path}`);
        if (this.pathOf(record.clientId) !== path) throw new Error(`it belongs to client id ${JSON.stringify(record.clientId)}`);
        records.push(record);
      } catch (err) {
        log.warn('removing a lease file that cannot be used', { path, error: (err as Error).message });
        unlinkIfExists(path);
      }
    }
    return records;
  }
}
