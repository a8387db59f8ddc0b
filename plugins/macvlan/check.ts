import { CniError, ErrorCode } from '../../lib/errors';
import { checkContainerLink, checkPrevious } from '../../lib/iface/container-link';
import { openHostSocket, openSocketIn } from '../../lib/netlink';
import { linkDetails } from '../../lib/netlink/link-details';
import { macvlanModeOf } from '../../lib/netlink/macvlan';
import type { CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';
import { resolveMaster } from './master';

const fail = (what: string) => new CniError(ErrorCode.CheckFailed, what);

/**
 * The reference's CHECK (IPAM's CHECK; prevResult's interface in this sandbox; the master exists;
 * the container link is a macvlan in the configured mode with prevResult's MAC, addresses and
 * routes), and that the macvlan sits on that master.
 */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const { prev, entry } = await checkPrevious(cmd, conf.ipamType);
  const host = openHostSocket();
  const ctr = openSocketIn(cmd.netns);
  try {
    const master = await resolveMaster(conf, conf.linkInContainer ? ctr : host).catch((err: Error) => {
      throw fail(`the master is not usable: ${err.message}`);
    });
    const link = await checkContainerLink(ctr, cmd, prev, { kind: 'macvlan', mac: entry.mac });
    const details = await linkDetails(ctr, { index: link.index });
    const mode = macvlanModeOf(details?.infoData);
    if (mode !== conf.mode) throw fail(`container macvlan ${JSON.stringify(cmd.ifname)} is in mode ${mode ?? 'unknown'}, not ${conf.mode}`);
    // a master in the host shows through IFLA_LINK_NETNSID; in the same namespace there is none
    const sameNamespace = details?.parentNetnsId === undefined;
    // on a master that is itself a macvlan, the kernel puts the new one on the master's own lower device
    const lower = master.kind === 'macvlan' ? (await linkDetails(conf.linkInContainer ? ctr : host, { index: master.index }))?.parentIndex : master.index;
    if (details?.parentIndex !== lower || sameNamespace !== conf.linkInContainer) {
      throw fail(`container macvlan ${JSON.stringify(cmd.ifname)} is not on master ${JSON.stringify(master.name)}`);
    }
  } finally {
    host.socket.close();
    ctr.socket.close();
  }
}
