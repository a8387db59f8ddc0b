import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { isNodeErrorCode } from './errors';

/** File helpers for state that may legitimately be absent: a missing file or directory is not an error. */
export function readFileIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isNodeErrorCode(err, 'ENOENT')) return undefined;
    throw err;
  }
}

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
