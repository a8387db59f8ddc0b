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
