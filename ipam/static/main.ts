import { definePlugin } from '../../lib/skel/define';

export const main = definePlugin({ name: 'static', verbs: () => import('./verbs') });
