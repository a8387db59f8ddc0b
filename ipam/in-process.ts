import type { InProcessDelegates } from '../lib/invoke/in-process';

/** The IPAM plugins an interface plugin runs in its own process when they are built alongside it. */
export const IN_PROCESS_IPAM: InProcessDelegates = {
  'host-local': () => import('./host-local/verbs'),
  static: () => import('./static/verbs'),
};
