import { definePlugin } from '../../lib/skel/define';

export const main = definePlugin({ name: 'vrf', verbs: () => import('./verbs') });
