import { AttachmentState, stateRoot, type StateEnv } from '../../lib/state/attachment-state';

export { attachmentKey } from '../../lib/state/attachment-state';

/** Which VRF an interface joined, for DEL, CHECK and GC. */
export interface VrfRecord {
  netns: string;
  vrf: string;
  table: number;
}

export const vrfState = (cmd: StateEnv) => new AttachmentState<VrfRecord>(stateRoot(cmd.env), 'vrf');
