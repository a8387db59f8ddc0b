import { checkCreatedLink } from '../../lib/iface/link-plugin';
import { ipvlanModeOf } from '../../lib/netlink/ipvlan';
import type { CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';

/**
 * The reference's CHECK (the ipvlan in the configured mode with prevResult's MAC, addresses and
 * routes; the master exists), and that the ipvlan sits on that master. Without a configured
 * master (the default route's or, chained, prevResult's at ADD) no master is checked.
 */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await checkCreatedLink(cmd, {
    ipamType: conf.ipamType,
    kind: 'ipvlan',
    master: conf.master ? conf : undefined,
    stacksOnLower: true,
    inspect: (link) => {
      const mode = ipvlanModeOf(link.infoData);
      return mode === conf.mode ? undefined : `is in mode ${mode ?? 'unknown'}, not ${conf.mode}`;
    },
  });
}
