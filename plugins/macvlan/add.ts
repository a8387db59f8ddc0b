import { closeSync, openSync } from 'node:fs';
import { addressContainerLink, containerLinkResult } from '../../lib/iface/container-link';
import { CniError, ErrorCode } from '../../lib/errors';
import { checkDelegate } from '../../lib/invoke/delegate';
import { deleteLink, linkByName, openHostSocket, openSocketIn, type LinkInfo, type RtNetlinkSocket } from '../../lib/netlink';
import { createMacvlan } from '../../lib/netlink/macvlan';
import type { CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { requireFreeName } from '../../lib/iface/veth';
import { UndoStack } from '../../lib/undo';
import { parseConfig, type MacvlanConfig } from './config';
import { resolveMaster } from './master';

export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  // everything that can be refused is refused before the kernel is touched
  if (conf.ipamType) await checkDelegate(conf.ipamType, cmd);
  const host = openHostSocket();
  const ctr = openSocketIn(cmd.netns);
  try {
    const master = await resolveMaster(conf, conf.linkInContainer ? ctr : host);
    await requireFreeName(ctr, { netnsPath: cmd.netns, ifname: cmd.ifname });
    return await new UndoStack().run(async (undo) => {
      const link = await createContainerMacvlan(host, ctr, cmd, conf, master);
      undo.push(`macvlan ${link.name}`, () => deleteLink(ctr, link.index));
      // as the reference: arp_notify and ndisc_notify with addresses, DAD settled before the result
      const addressing = await addressContainerLink(ctr, cmd, link, conf.ipamType, undo, { enableDad: true, arpNotify: true, ndiscNotify: true });
      return containerLinkResult(conf.cniVersion, cmd, link, addressing, conf.dns);
    });
  } finally {
    host.socket.close();
    ctr.socket.close();
  }
}

/**
 * The macvlan, born in the container under its final name in one message: from the host's socket
 * with the container's namespace as target, or from the container's own with linkInContainer.
 */
async function createContainerMacvlan(host: RtNetlinkSocket, ctr: RtNetlinkSocket, cmd: CmdArgs, conf: MacvlanConfig, master: LinkInfo): Promise<LinkInfo> {
  const spec = { name: cmd.ifname, parentIndex: master.index, mode: conf.mode, mtu: conf.mtu, mac: conf.mac, bcQueueLen: conf.bcQueueLen };
  if (conf.linkInContainer) {
    await createMacvlan(ctr, spec);
  } else {
    const netnsFd = openSync(cmd.netns, 'r');
    try {
      await createMacvlan(host, { ...spec, netnsFd });
    } finally {
      closeSync(netnsFd);
    }
  }
  const link = await linkByName(ctr, cmd.ifname);
  if (!link) throw new CniError(ErrorCode.LinkFailure, `macvlan ${JSON.stringify(cmd.ifname)} vanished right after creation`);
  return link;
}
