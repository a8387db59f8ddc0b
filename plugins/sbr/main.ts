import { definePlugin } from '../../lib/skel/define';

export const main = definePlugin({ name: 'sbr', verbs: () => import('./verbs') });
