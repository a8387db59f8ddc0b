import { VERSION } from '../../lib/about';
import { lazyVerbs, runPlugin } from '../../lib/skel';

/** `dhcp daemon [flags]` runs the daemon that holds the leases (as the reference's); anything else is the IPAM plugin. */
export const main = (): Promise<number> => {
  if (process.argv[2] === 'daemon') return import('./daemon').then(({ runDaemon }) => runDaemon(process.argv.slice(3)));
  return runPlugin(
    lazyVerbs(() => import('./verbs')),
    { name: 'dhcp', version: VERSION },
  );
};
