import type { CmdArgs } from '../../lib/skel';
import { removeInvalidAttachments } from '../../lib/state/collect-garbage';
import { parseConfig } from './config';
import { removeIn } from './del';
import { sbrState } from './records';
import { netnsExists } from '../../lib/netns';

/** sbr needs nothing of the host: ready whenever its config parses. */
export async function status(cmd: CmdArgs): Promise<void> {
  parseConfig(cmd);
}

/** Removes the rules and routes of this network's attachments that are not in cni.dev/valid-attachments, and their records. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const state = sbrState(cmd);
  const component = {
    attachments: (network: string) => state.withLock(() => state.list(network).map((r) => r.key)),
    collect: async (key: Parameters<typeof state.remove>[0]) => {
      const record = state.withLock(() => state.read(key));
      if (record && netnsExists(record.netns)) await removeIn(record.netns, key.ifname, record);
      state.withLock(() => state.remove(key));
    },
  };
  await removeInvalidAttachments([component], cmd.config.name, cmd.validAttachments, 'source route');
}
