import { delCreatedLink } from '../../lib/iface/created-link';
import type { CmdArgs } from '../../lib/skel';

/** IPAM DEL, then the dummy in the container, best effort and from the names alone. */
export const del = (cmd: CmdArgs): Promise<void> => delCreatedLink(cmd, 'dummy');
