import { openHostSocket } from '../../lib/netlink';
import type { DelArgs } from '../../lib/skel';
import { attachmentKey } from '../../lib/state/attachment-state';
import { bandwidthState, removeAttachment } from './records';

/**
 * Removes the attachment's ifb and the qdiscs ADD added to the host veth, then its record. Works
 * from the network name and container id alone (the ifb's name derives from them, as in the
 * reference), in the host namespace, so it needs no field of the config nor the container's
 * namespace. Idempotent; what cannot be removed is reported after everything else was tried, and the record
 * is kept for GC to try again.
 */
export async function del(cmd: DelArgs): Promise<void> {
  const sock = openHostSocket();
  try {
    await removeAttachment(sock, bandwidthState(cmd), attachmentKey(cmd));
  } finally {
    sock.socket.close();
  }
}
