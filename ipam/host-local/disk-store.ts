import { closeSync, constants, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isNodeErrorCode } from '../../lib/errors';
import { readFileIfExists, unlinkIfExists } from '../../lib/fs';
import { formatIP, parseIP, type IP } from '../../lib/ip';
import { FileLock } from '../../lib/lock';
import type { Allocation, Store } from './store';

/** The reference plugin separates container id and ifname with CRLF (disk/backend.go LineBreak). */
const LINE_BREAK = '\r\n';
const TEMP_PREFIX = '.tmp-';
const LAST_RESERVED_PREFIX = 'last_reserved_ip.';

/**
 * The reference host-local layout: <dataDir>/<network>/<ip> files holding "id\r\nifname",
 * last_reserved_ip.<range set index>, and a "lock" file taken with flock. Files are written to a
 * temporary name, synced, and linked into place, so a reader never sees a half-written file, a killed
 * writer leaves only a temporary file, which the next lock holder removes, and a reservation
 * survives a power cut once ADD has returned (the directory is synced too).
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
    const temp = this.writeTemporary(`${containerId}${LINE_BREAK}${ifname}`);
    try {
      linkSync(temp, join(this.dir, formatIP(ip)));
    } catch (err) {
      if (isNodeErrorCode(err, 'EEXIST')) return false;
      throw err;
    } finally {
      unlinkSync(temp);
    }
    // a reservation the runtime was told about must survive a power cut, or the address is handed out twice
    this.syncDirectory();
    this.replaceFile(`${LAST_RESERVED_PREFIX}${rangeSetIndex}`, formatIP(ip));
    return true;
  }

  release(ip: IP): void {
    unlinkIfExists(join(this.dir, formatIP(ip)));
  }

  lastReserved(rangeSetIndex: number): IP | undefined {
    const text = readFileIfExists(join(this.dir, `${LAST_RESERVED_PREFIX}${rangeSetIndex}`));
    return text === undefined ? undefined : parseIP(text.trim());
  }

  allocations(): Allocation[] {
    const out: Allocation[] = [];
    for (const name of readdirSync(this.dir)) {
      const ip = parseIP(name);
      if (!ip) continue; // lock, last_reserved_ip.N, temporaries
      const text = readFileIfExists(join(this.dir, name));
      if (text === undefined) continue;
      const [containerId, ifname] = text.trim().split(LINE_BREAK);
      out.push({ ip, containerId: containerId.trim(), ifname: ifname?.trim() || undefined });
    }
    return out;
  }

  private writeTemporary(content: string): string {
    const path = join(this.dir, `${TEMP_PREFIX}${process.pid}-${Math.random().toString(36).slice(2)}`);
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return path;
  }

  private replaceFile(name: string, content: string): void {
    renameSync(this.writeTemporary(content), join(this.dir, name));
  }

  private syncDirectory(): void {
    const fd = openSync(this.dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      fsyncSync(fd);
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
