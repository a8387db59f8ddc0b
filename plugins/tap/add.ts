import { addressContainerLink, containerLinkResult } from '../../lib/iface/container-link';
import { CniError, ErrorCode, SyscallError, invalidField } from '../../lib/errors';
import { createPersistentTap } from '../../lib/ffi/tun';
import { checkDelegate } from '../../lib/invoke/delegate';
import { deleteLink, linkByName, openSocketIn, setLinkUp, setMac, setMaster, setMtu, type LinkInfo, type RtNetlinkSocket } from '../../lib/netlink';
import { withNetns } from '../../lib/netns';
import type { CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { requireFreeName } from '../../lib/iface/veth';
import { UndoStack } from '../../lib/undo';
import { parseConfig, type TapConfig } from './config';

export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  // everything that can be refused is refused before the kernel is touched
  if (conf.ipamType) await checkDelegate(conf.ipamType, cmd);
  const ctr = openSocketIn(cmd.netns);
  try {
    await requireFreeName(ctr, { netnsPath: cmd.netns, ifname: cmd.ifname });
    const bridge = conf.bridge ? await containerBridge(ctr, conf.bridge) : undefined;
    return await new UndoStack().run(async (undo) => {
      let link = await createTap(ctr, cmd, conf);
      undo.push(`tap ${link.name}`, () => deleteLink(ctr, link.index));
      if (conf.mtu) await setMtu(ctr, link, conf.mtu);
      if (conf.mac) await setMac(ctr, link, conf.mac);
      if (bridge) await setMaster(ctr, link, bridge.index);
      await setLinkUp(ctr, link, true);
      link = (await linkByName(ctr, cmd.ifname)) ?? link;
      // as the reference: arp_notify with addresses; no DAD, which a tap nobody has opened yet (no carrier) would never finish
      const addressing = await addressContainerLink(ctr, cmd, link, conf.ipamType, undo, { enableDad: false, arpNotify: true });
      return containerLinkResult(conf.cniVersion, cmd, link, addressing, conf.dns);
    });
  } finally {
    ctr.socket.close();
  }
}

async function containerBridge(ctr: RtNetlinkSocket, name: string): Promise<LinkInfo> {
  const bridge = await linkByName(ctr, name);
  if (bridge?.kind !== 'bridge') throw invalidField('bridge', `no bridge ${JSON.stringify(name)} in the container namespace`);
  return bridge;
}

/** The tap, made in-process inside the container's namespace under its final name (/dev/net/tun, no `ip` process). */
async function createTap(ctr: RtNetlinkSocket, cmd: CmdArgs, conf: TapConfig): Promise<LinkInfo> {
  try {
    withNetns(cmd.netns, () => createPersistentTap({ name: cmd.ifname, flags: conf.flags, owner: conf.owner, group: conf.group }));
  } catch (err) {
    if (err instanceof SyscallError) throw new CniError(ErrorCode.LinkFailure, `cannot create tap ${JSON.stringify(cmd.ifname)}: ${err.message}`);
    throw err;
  }
  const link = await linkByName(ctr, cmd.ifname);
  if (!link) throw new CniError(ErrorCode.LinkFailure, `tap ${JSON.stringify(cmd.ifname)} vanished right after creation`);
  return link;
}
