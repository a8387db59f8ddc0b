import { definePlugin } from '../../lib/skel/define';

const plugin = definePlugin({ name: 'dhcp', verbs: () => import('./verbs') });

/** `dhcp daemon [flags]` runs the daemon that holds the leases (as the reference's); anything else is the IPAM plugin. */
export const main = (): Promise<number> => {
  if (process.argv[2] === 'daemon') return import('./daemon').then(({ runDaemon }) => runDaemon(process.argv.slice(3)));
  return plugin();
};
