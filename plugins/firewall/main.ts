import { definePlugin } from '../../lib/skel/define';

export const main = definePlugin({ name: 'firewall', verbs: () => import('./verbs') });
