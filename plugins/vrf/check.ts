import { CniError, ErrorCode } from '../../lib/errors';
import { withLinkIn } from '../../lib/netlink';
import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';
import { findVrf } from './device';
import { attachmentKey, vrfState } from './records';

/** Fails (140) unless the interface is in the VRF ADD put it in, with the same routing table. */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  requirePrevResult(cmd, 'vrf');
  const state = vrfState(cmd);
  const record = state.withLock(() => state.read(attachmentKey(cmd)));
  const failed = (why: string) => new CniError(ErrorCode.CheckFailed, why);
  await withLinkIn(cmd.netns, cmd.ifname, async (sock, iface) => {
    const vrf = await findVrf(sock, conf.vrfname);
    if (!vrf) throw failed(`VRF ${JSON.stringify(conf.vrfname)} is gone`);
    if (!iface) throw failed(`interface ${JSON.stringify(cmd.ifname)} not found in ${JSON.stringify(cmd.netns)}`);
    if (iface.masterIndex !== vrf.index) throw failed(`${cmd.ifname} is not in VRF ${JSON.stringify(conf.vrfname)}`);
    const table = record?.table ?? conf.table;
    if (table !== undefined && vrf.table !== table) throw failed(`VRF ${JSON.stringify(conf.vrfname)} has routing table ${vrf.table}, ADD gave it ${table}`);
  });
}
