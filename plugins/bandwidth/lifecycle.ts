import { openHostSocket } from '../../lib/netlink';
import type { CmdArgs } from '../../lib/skel';
import type { AttachmentKey } from '../../lib/state/attachment-state';
import { removeInvalidAttachments } from '../../lib/state/collect-garbage';
import { bandwidthState, removeAttachment } from './records';
import { parseConfig } from './config';

/** Ready whenever the config is valid: the kernel work needs nothing that runs beside the plugin. */
export async function status(cmd: CmdArgs): Promise<void> {
  parseConfig(cmd);
}

/**
 * Removes the ifbs (and host-side qdiscs) of this network's attachments that are not in
 * cni.dev/valid-attachments, by this suite's records: an ifb's name says nothing about its network.
 */
export async function gc(cmd: CmdArgs): Promise<void> {
  const state = bandwidthState(cmd);
  const sock = openHostSocket();
  try {
    const component = {
      attachments: (network: string) => state.withLock(() => state.list(network).map((r) => r.key)),
      collect: (key: AttachmentKey) => removeAttachment(sock, state, key),
    };
    await removeInvalidAttachments([component], cmd.config.name, cmd.validAttachments, 'ifb');
  } finally {
    sock.socket.close();
  }
}
