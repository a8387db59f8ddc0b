import { definePlugin } from '../../lib/skel/define';

export const main = definePlugin({ name: 'tuning', verbs: () => import('./verbs') });
