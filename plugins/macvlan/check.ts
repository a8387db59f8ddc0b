import { checkCreatedLink } from '../../lib/iface/link-plugin';
import { macvlanModeOf } from '../../lib/netlink/macvlan';
import type { CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';

/**
 * The reference's CHECK (IPAM's CHECK; prevResult's interface in this sandbox; the master exists;
 * the container link is a macvlan in the configured mode with prevResult's MAC, addresses and
 * routes), and that the macvlan sits on that master.
 */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await checkCreatedLink(cmd, {
    ipamType: conf.ipamType,
    kind: 'macvlan',
    master: conf,
    stacksOnLower: true,
    inspect: (link) => {
      const mode = macvlanModeOf(link.infoData);
      return mode === conf.mode ? undefined : `is in mode ${mode ?? 'unknown'}, not ${conf.mode}`;
    },
  });
}
