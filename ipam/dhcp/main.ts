import { definePlugin } from '../../lib/skel/define';

/** `dhcp daemon [flags]` runs the daemon that holds the leases (as the reference's); anything else is the IPAM plugin. */
export const main = definePlugin({
  name: 'dhcp',
  verbs: () => import('./verbs'),
  subcommands: { daemon: (args) => import('./daemon').then(({ runDaemon }) => runDaemon(args)) },
});
