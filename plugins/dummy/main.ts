import { VERSION } from '../../lib/about';
import { registerInProcessDelegate } from '../../lib/invoke/delegate';
import { lazyVerbs, runPlugin } from '../../lib/skel';

registerInProcessDelegate('host-local', () => import('../../ipam/host-local/verbs'));
registerInProcessDelegate('static', () => import('../../ipam/static/verbs'));

export const main = (): Promise<number> =>
  runPlugin(
    lazyVerbs(() => import('./verbs')),
    { name: 'dummy', version: VERSION },
  );
