import type { CmdArgs } from '../../lib/skel';
import { collectableRecords, removeInvalidAttachments } from '../../lib/state/collect-garbage';
import { parseConfig } from './config';
import { leaveIn } from './del';
import { vrfState } from './records';

/** vrf needs nothing of the host: ready whenever its config parses. */
export async function status(cmd: CmdArgs): Promise<void> {
  parseConfig(cmd);
}

/** Takes the interfaces of this network's attachments that are not in cni.dev/valid-attachments out of their VRFs, and forgets them. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const memberships = collectableRecords(vrfState(cmd), (key, record) => leaveIn(record.netns, record.vrf, key.ifname));
  await removeInvalidAttachments([memberships], cmd.config.name, cmd.validAttachments, 'VRF membership');
}
