import { AttachmentState, stateRoot, type StateEnv } from '../../lib/state/attachment-state';

export { attachmentKey } from '../../lib/state/attachment-state';

/** What ptp remembers per attachment beyond the masquerade entries: where to find its host side once the namespace is gone. */
export interface PtpRecord {
  hostVeth: string;
  netns: string;
  /** The config's IPAM section (lib/iface/veth-records.ts recordedIpam). */
  ipam?: Record<string, unknown>;
}

export const ptpState = (cmd: StateEnv) => new AttachmentState<PtpRecord>(stateRoot(cmd.env), 'ptp');
