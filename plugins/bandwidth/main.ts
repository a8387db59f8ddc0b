import { definePlugin } from '../../lib/skel/define';

export const main = definePlugin({ name: 'bandwidth', verbs: () => import('./verbs') });
