import { definePlugin } from '../../lib/skel/define';

export const main = definePlugin({ name: 'dnsname', verbs: () => import('./verbs') });
