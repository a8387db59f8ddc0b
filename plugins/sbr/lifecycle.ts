import { netnsExists } from '../../lib/netns';
import type { CmdArgs } from '../../lib/skel';
import { collectableRecords, removeInvalidAttachments } from '../../lib/state/collect-garbage';
import { parseConfig } from './config';
import { removeIn } from './del';
import { sbrState } from './records';

/** sbr needs nothing of the host: ready whenever its config parses. */
export async function status(cmd: CmdArgs): Promise<void> {
  parseConfig(cmd);
}

/** Removes the rules and routes of this network's attachments that are not in cni.dev/valid-attachments, and their records. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const routes = collectableRecords(sbrState(cmd), async (key, record) => {
    if (netnsExists(record.netns)) await removeIn(record.netns, key.ifname, record);
  });
  await removeInvalidAttachments([routes], cmd.config.name, cmd.validAttachments, 'source route');
}
