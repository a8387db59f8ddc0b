import { definePlugin } from '../../lib/skel/define';

export const main = definePlugin({ name: 'host-local', verbs: () => import('./verbs') });
