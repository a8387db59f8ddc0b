import { CniError, ErrorCode } from '../../lib/errors';
import { checkContainerLink, checkPrevious } from '../../lib/iface/container-link';
import { linkByName, openSocketIn } from '../../lib/netlink';
import { linkDetails } from '../../lib/netlink/link-details';
import { tunInfoOf } from '../../lib/netlink/tun';
import type { CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';

const fail = (what: string) => new CniError(ErrorCode.CheckFailed, what);

/**
 * The reference's CHECK (IPAM's CHECK; prevResult's interface in this sandbox; its addresses and
 * routes), and what ADD made that the reference does not look at: a tap (not a tun), with
 * prevResult's MAC, multi-queue, owner and group as configured, a port of the configured bridge.
 */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const { prev, entry } = await checkPrevious(cmd, conf.ipamType);
  const ctr = openSocketIn(cmd.netns);
  try {
    const link = await checkContainerLink(ctr, cmd, prev, { kind: 'tun', mac: entry.mac });
    const tun = tunInfoOf((await linkDetails(ctr, { index: link.index }))?.infoData);
    const name = JSON.stringify(cmd.ifname);
    if (tun.type !== 'tap') throw fail(`container interface ${name} is a ${tun.type ?? 'tun/tap'} device, not a tap`);
    if (tun.multiQueue !== conf.multiQueue) throw fail(`tap ${name} is ${tun.multiQueue ? '' : 'not '}multi-queue, unlike the config`);
    if (conf.owner !== undefined && tun.owner !== conf.owner) throw fail(`tap ${name} belongs to user ${tun.owner ?? 'none'}, not ${conf.owner}`);
    if (conf.group !== undefined && tun.group !== conf.group) throw fail(`tap ${name} belongs to group ${tun.group ?? 'none'}, not ${conf.group}`);
    if (conf.bridge) {
      const bridge = await linkByName(ctr, conf.bridge);
      if (!bridge || link.masterIndex !== bridge.index) throw fail(`tap ${name} is not a port of bridge ${JSON.stringify(conf.bridge)}`);
    }
  } finally {
    ctr.socket.close();
  }
}
