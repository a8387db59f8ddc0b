import { accessSync, constants, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { CniError, ErrorCode, isNodeErrorCode } from './errors';

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

/** For STATUS: `dir` exists (created if missing) and is writable; otherwise error 50 naming it. */
export function assertWritableDirectory(dir: string, what: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new CniError(ErrorCode.PluginNotAvailable, `${what} ${JSON.stringify(dir)} is not writable: ${(err as Error).message}`);
  }
}
