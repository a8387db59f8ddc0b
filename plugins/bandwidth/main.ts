import { VERSION } from '../../lib/about';
import { lazyVerbs, runPlugin } from '../../lib/skel';

export const main = (): Promise<number> =>
  runPlugin(
    lazyVerbs(() => import('./verbs')),
    { name: 'bandwidth', version: VERSION },
  );
