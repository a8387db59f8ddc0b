import { formatIP, formatPrefix } from '../../lib/ip';
import { openNft } from '../../lib/nft';
import { AttachmentState, stateRoot, type StateEnv } from '../../lib/state/attachment-state';

export { attachmentKey } from '../../lib/state/attachment-state';
import type { Addressing } from './container';
import { newMasquerade } from './masquerade';
import type { MasqEntry } from './masquerade-rules';
import { newSpoofCheck, type SpoofEntry } from './spoofcheck';

/** What bridge remembers per attachment beyond the masquerade entries. */
export interface BridgeRecord {
  bridge: string;
  hostVeth: string;
}

export const bridgeState = (cmd: StateEnv) => new AttachmentState<BridgeRecord>(stateRoot(cmd.env), 'bridge');

export const masquerade = (cmd: StateEnv) => newMasquerade(openNft(), new AttachmentState<MasqEntry[]>(stateRoot(cmd.env), 'ipmasq'));

export function masqEntries(addressing: Addressing[]): MasqEntry[] {
  return addressing.map((a) => ({ family: a.ip.family, ip: formatIP(a.ip), subnet: formatPrefix(a.subnet) }));
}

export const spoofCheck = (cmd: StateEnv) => newSpoofCheck(openNft(), new AttachmentState<SpoofEntry[]>(stateRoot(cmd.env), 'macspoofchk'));
