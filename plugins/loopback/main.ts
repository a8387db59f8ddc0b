import { definePlugin } from '../../lib/skel/define';

export const main = definePlugin({ name: 'loopback', verbs: () => import('./verbs') });
