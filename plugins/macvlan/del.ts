import { delCreatedLink } from '../../lib/iface/link-plugin';
import type { DelArgs } from '../../lib/skel';

/**
 * Best effort and idempotent, from the IPAM type and the names alone: the reservation, then the
 * macvlan in the container. A missing namespace or link is success (the macvlan went with the
 * namespace); nothing of it is left on the host.
 */
export const del = (cmd: DelArgs): Promise<void> => delCreatedLink(cmd, 'macvlan');
