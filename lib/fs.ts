import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { CniError, ErrorCode, isNodeErrorCode } from './errors';
import { log } from './log';

/** File helpers for state that may legitimately be absent: a missing file or directory is not an error. */
export function readFileIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isNodeErrorCode(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** A JSON state file as read: `present` whether the file exists, `value` only when it also parses. */
export interface JsonRead<T> {
  present: boolean;
  value?: T;
}

/**
 * A JSON state file, telling a missing file from one that cannot be parsed (e.g. truncated to 0
 * bytes by a power cut); a damaged file is logged and has no value, so DEL and GC go on.
 */
export function readJson<T>(path: string): JsonRead<T> {
  const text = readFileIfExists(path);
  if (text === undefined) return { present: false };
  try {
    return { present: true, value: JSON.parse(text) as T };
  } catch (err) {
    log.warn('ignoring a state file that cannot be read', { path, bytes: text.length, error: (err as Error).message });
    return { present: true };
  }
}

/** The same when missing and damaged mean the same to the caller: undefined. */
export const readJsonIfValid = <T>(path: string): T | undefined => readJson<T>(path).value;

export function readdirIfExists(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (err) {
    if (isNodeErrorCode(err, 'ENOENT')) return [];
    throw err;
  }
}

export function unlinkIfExists(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (!isNodeErrorCode(err, 'ENOENT')) throw err;
  }
}

/** What writeFileAtomic appends for its temporary unless told otherwise (writers under a lock need no unique name). */
export const TEMP_SUFFIX = '.tmp';

/** Removes a directory that has nothing left in it; one still in use, or gone, is left as it is. */
export function removeDirIfEmpty(path: string): void {
  try {
    rmdirSync(path);
  } catch (err) {
    if (!isNodeErrorCode(err, 'ENOTEMPTY') && !isNodeErrorCode(err, 'ENOENT') && !isNodeErrorCode(err, 'EEXIST')) throw err;
  }
}

export interface AtomicWriteOptions {
  /** The temporary's path (default `<path>.tmp`); callers that write outside a lock pass a unique one. */
  temp?: string;
  mode?: number;
  /** Create only: link instead of rename, and return false (writing nothing) when `path` exists. */
  exclusive?: boolean;
  /**
   * false for a hint whose loss is harmless (host-local's last_reserved_ip): no fsync, so after a
   * power cut it may hold the old content or nothing, which its reader must take as no hint.
   */
  durable?: boolean;
}

/**
 * The one way the suite writes a state file (records, owners, backups, caches, reservations):
 * temporary file, fsync, rename (or link when exclusive), fsync of the directory. After a crash or
 * a power cut the file holds the old content or the new one, never a prefix or nothing.
 */
export function writeFileAtomic(path: string, content: string, options: AtomicWriteOptions = {}): boolean {
  const temp = options.temp ?? `${path}${TEMP_SUFFIX}`;
  const fd = openSync(temp, 'w', options.mode ?? 0o600);
  const durable = options.durable ?? true;
  try {
    writeSync(fd, content);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (options.exclusive) linkSync(temp, path);
    else renameSync(temp, path);
  } catch (err) {
    if (options.exclusive && isNodeErrorCode(err, 'EEXIST')) return false;
    throw err;
  } finally {
    if (options.exclusive) unlinkIfExists(temp);
  }
  if (durable) syncDirectory(dirname(path));
  return true;
}

/** Makes a directory's entries (a rename, link or unlink) durable. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The first regular, executable file called `name` in `dirs` (PATH or CNI_PATH order), or undefined. */
export function findExecutable(name: string, dirs: string[]): string | undefined {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      // throwIfNoEntry: a missing file is the common case, and an error's stack costs more than the stat
      if (statSync(candidate, { throwIfNoEntry: false })?.isFile()) {
        accessSync(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // not in this directory, or not executable
    }
  }
  return undefined;
}

/** For STATUS: `dir` exists (created if missing) and is writable; otherwise error 50 naming it. */
export function assertWritableDirectory(dir: string, what: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new CniError(ErrorCode.PluginNotAvailable, `${what} ${JSON.stringify(dir)} is not writable: ${(err as Error).message}`);
  }
}
