import { definePlugin } from '../../lib/skel/define';

export const main = definePlugin({ name: 'portmap', verbs: () => import('./verbs') });
