import { delCreatedLink } from '../../lib/iface/link-plugin';
import type { DelArgs } from '../../lib/skel';

/** IPAM DEL, then the ipvlan in the container, best effort and from the names alone. */
export const del = (cmd: DelArgs): Promise<void> => delCreatedLink(cmd, 'ipvlan');
