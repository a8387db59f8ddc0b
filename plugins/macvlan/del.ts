import { deleteContainerLink } from '../../lib/iface/container-link';
import { teardown } from '../../lib/iface/teardown';
import { delegateDel } from '../../lib/invoke/delegate';
import type { CmdArgs } from '../../lib/skel';

/**
 * Best effort and idempotent, from the IPAM type and the names alone: the reservation, then the
 * macvlan in the container. A missing namespace or link is success (the macvlan went with the
 * namespace); nothing of it is left on the host.
 */
export async function del(cmd: CmdArgs): Promise<void> {
  await teardown([
    ['release addresses (IPAM)', () => delegateDel(cmd)],
    ['delete macvlan', () => deleteContainerLink(cmd.netns, cmd.ifname, 'macvlan')],
  ]);
}
