import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileLock } from '../../lib/lock';
import { AttachmentState, stateRoot, type StateEnv } from '../../lib/state/attachment-state';

export { attachmentKey } from '../../lib/state/attachment-state';

/** A route sbr put in one of its tables, as text (prefixes and addresses), to remove and to check. */
export interface TableRoute {
  table: number;
  dst: string;
  gw?: string;
  src?: string;
  scope: number;
}

/** What sbr did in the container, for DEL, CHECK and GC. */
export interface SbrRecord {
  netns: string;
  /** `from <src> lookup <table>` rules. */
  rules: Array<{ src: string; table: number }>;
  routes: TableRoute[];
}

export const sbrState = (cmd: StateEnv) => new AttachmentState<SbrRecord>(stateRoot(cmd.env), 'sbr');

/** Held while an ADD picks tables and adds rules in one container: two networks attached at once must not pick the same table (the reference locks the namespace). */
export function netnsLock(cmd: StateEnv, netns: string): FileLock {
  const dir = join(stateRoot(cmd.env), 'sbr', 'netns');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return new FileLock(join(dir, `${createHash('sha256').update(netns).digest('hex').slice(0, 32)}.lock`));
}
