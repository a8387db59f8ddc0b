import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileLock } from '../../lib/lock';
import { openNft, strayElements } from '../../lib/nft';
import { AttachmentState, stateRoot, type StateEnv } from '../../lib/state/attachment-state';
import { recordedComponent } from '../../lib/state/recorded-component';

export { attachmentKey } from '../../lib/state/attachment-state';
import { newSpoofCheck, SPOOFCHECKED, spoofCheckSpec, type SpoofEntry } from './spoofcheck';

/** What bridge remembers per attachment beyond the masquerade entries. */
export interface BridgeRecord {
  bridge: string;
  hostVeth: string;
  /** The container's namespace path, so an operator's tool can tell a container that is gone. */
  netns: string;
  /** The config's IPAM section (lib/iface/veth-records.ts recordedIpam). */
  ipam?: Record<string, unknown>;
}

export const bridgeState = (cmd: StateEnv) => new AttachmentState<BridgeRecord>(stateRoot(cmd.env), 'bridge');

/** Held while an ADD makes sure of the bridge and attaches its veth, and while a failed ADD takes a bridge it created away. */
export function bridgeLinkLock(cmd: StateEnv, bridge: string): FileLock {
  const dir = join(stateRoot(cmd.env), 'bridge', 'links');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return new FileLock(join(dir, `${bridge}.lock`));
}

export const spoofCheck = (cmd: StateEnv) => newSpoofCheck(openNft(), new AttachmentState<SpoofEntry[]>(stateRoot(cmd.env), 'macspoofchk'));

export const spoofCheckComponent = recordedComponent<SpoofEntry>({
  name: 'MAC spoof check',
  reapplyKey: 'bridge macspoofchk',
  open: spoofCheck,
  strays: (owned) => strayElements(openNft(), owned, spoofCheckSpec, [SPOOFCHECKED]),
});
