import { deleteContainerLink } from '../../lib/iface/container-link';
import { teardown } from '../../lib/iface/teardown';
import { delegateDel } from '../../lib/invoke/delegate';
import type { DelArgs } from '../../lib/skel';

/** Best effort and idempotent: the reservation, then the tap in the container; a missing namespace or tap is success. */
export async function del(cmd: DelArgs): Promise<void> {
  await teardown([
    ['release addresses (IPAM)', () => delegateDel(cmd)],
    ['delete tap', () => deleteContainerLink(cmd.netns, cmd.ifname, 'tun')],
  ]);
}
