import { openHostSocket } from '../../lib/netlink';
import type { CmdArgs } from '../../lib/skel';
import { attachmentKey } from '../../lib/state/attachment-state';
import { bandwidthState, removeAttachment } from './attachment';

/**
 * Removes the attachment's ifb and the qdiscs ADD added to the host veth, then its record. Works
 * from the network name and container id alone (the ifb's name derives from them, as in the
 * reference), in the host namespace, so it needs neither the container's namespace nor a field ADD
 * checked: a config ADD refused, or one whose namespace is gone, is deleted all the same.
 * Idempotent; what cannot be removed is reported after everything else was tried, and the record
 * is kept for GC to try again.
 */
export async function del(cmd: CmdArgs): Promise<void> {
  const sock = openHostSocket();
  try {
    await removeAttachment(sock, bandwidthState(cmd), attachmentKey(cmd));
  } finally {
    sock.socket.close();
  }
}
