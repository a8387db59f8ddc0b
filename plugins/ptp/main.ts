import { IN_PROCESS_IPAM } from '../../ipam/in-process';
import { definePlugin } from '../../lib/skel/define';

export const main = definePlugin({ name: 'ptp', verbs: () => import('./verbs'), inProcessDelegates: IN_PROCESS_IPAM });
