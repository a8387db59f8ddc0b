import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { isNodeErrorCode } from '../../lib/errors';
import { readFileIfExists, unlinkIfExists, writeFileAtomic } from '../../lib/fs';
import { formatIP, parseIP, type IP } from '../../lib/ip';
import { FileLock } from '../../lib/lock';
import { ownedBy, type Allocation, type Store } from './store';

/** The reference plugin separates container id and ifname with CRLF (disk/backend.go LineBreak). */
const LINE_BREAK = '\r\n';
const TEMP_PREFIX = '.tmp-';
const LAST_RESERVED_PREFIX = 'last_reserved_ip.';
/** Records are "id\r\nifname"; a longer one is read whole. */
const RECORD_BUFFER_BYTES = 4096;

/**
 * The reference host-local layout: <dataDir>/<network>/<ip> files holding "id\r\nifname",
 * last_reserved_ip.<range set index>, and a "lock" file taken with flock. Files are written with
 * writeFileAtomic (temporary, fsync, link or rename, fsync of the directory), so a reader never sees
 * a half-written file, a killed writer leaves only a temporary, which the next lock holder removes,
 * and a reservation survives a power cut once ADD has returned. last_reserved_ip is a hint, not
 * synced: after a power cut it may be old or empty, which only moves where the next search starts.
 */
export class DiskStore implements Store {
  private readonly lock: FileLock;

  constructor(
    readonly dir: string,
    private readonly lockTimeoutMs?: number,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    this.lock = new FileLock(join(dir, 'lock'));
  }

  withLock<T>(fn: () => T): T {
    return this.lock.with(() => {
      this.removeStaleTemporaries();
      return fn();
    }, this.lockTimeoutMs);
  }

  reserve(ip: IP, containerId: string, ifname: string, rangeSetIndex: number): boolean {
    const temp = join(this.dir, `${TEMP_PREFIX}${process.pid}-${Math.random().toString(36).slice(2)}`);
    if (!writeFileAtomic(join(this.dir, formatIP(ip)), `${containerId}${LINE_BREAK}${ifname}`, { temp, exclusive: true })) return false;
    const last = `${LAST_RESERVED_PREFIX}${rangeSetIndex}`;
    // a hint for the next search, never synced (as in the reference): lost, the search starts elsewhere
    writeFileAtomic(join(this.dir, last), formatIP(ip), { temp: join(this.dir, `${TEMP_PREFIX}${last}`), durable: false });
    return true;
  }

  release(ip: IP): void {
    unlinkIfExists(join(this.dir, formatIP(ip)));
  }

  lastReserved(rangeSetIndex: number): IP | undefined {
    const text = readFileIfExists(join(this.dir, `${LAST_RESERVED_PREFIX}${rangeSetIndex}`));
    return text === undefined ? undefined : parseIP(text.trim());
  }

  reservedAddresses(): IP[] {
    return readdirSync(this.dir).flatMap((name) => parseIP(name) ?? []); // not lock, last_reserved_ip.N, temporaries
  }

  /**
   * Reads every record, as the reference's GetByID does, but decodes only those whose bytes contain
   * the container id: at 65,536 records, about half of allocations()' cost.
   */
  heldBy(containerId: string, ifname: string): Allocation[] {
    const id = Buffer.from(containerId);
    return this.readRecords((bytes) => bytes.includes(id)).filter((a) => ownedBy(a, containerId, ifname));
  }

  allocations(): Allocation[] {
    return this.readRecords(() => true);
  }

  /** The records whose raw bytes pass `wanted`, decoded; records that vanish or are directories are skipped. */
  private readRecords(wanted: (bytes: Buffer) => boolean): Allocation[] {
    const buffer = Buffer.alloc(RECORD_BUFFER_BYTES);
    const out: Allocation[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!parseIP(name)) continue; // lock, last_reserved_ip.N, temporaries
      const bytes = this.readRecord(name, buffer);
      const allocation = bytes && wanted(bytes) ? parseRecord(name, bytes.toString('utf8')) : undefined;
      if (allocation) out.push(allocation);
    }
    return out;
  }

  /** A record's bytes, in `buffer` when they fit; undefined when it vanished or is not a file. */
  private readRecord(name: string, buffer: Buffer): Buffer | undefined {
    const path = `${this.dir}/${name}`; // join() would cost more than the read at 65,536 records
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if (isNodeErrorCode(err, 'ENOENT')) return undefined;
      throw err;
    }
    try {
      const length = readSync(fd, buffer, 0, buffer.length, 0);
      return length < buffer.length ? buffer.subarray(0, length) : readFileSync(fd);
    } catch (err) {
      if (isNodeErrorCode(err, 'EISDIR')) return undefined;
      throw err;
    } finally {
      closeSync(fd);
    }
  }

  /** Under the lock nobody is mid-write, so any temporary left is from a killed process. */
  private removeStaleTemporaries(): void {
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(TEMP_PREFIX)) unlinkIfExists(join(this.dir, name));
    }
  }
}

/** A record named by its address, or undefined when the name is not one (lock, last_reserved_ip.N, temporaries). */
function parseRecord(name: string, text: string): Allocation | undefined {
  const ip = parseIP(name);
  if (!ip) return undefined;
  const [containerId, ifname] = text.trim().split(LINE_BREAK);
  return { ip, containerId: containerId.trim(), ifname: ifname?.trim() || undefined };
}
