import { delegateDel } from '../../lib/invoke/delegate';
import { masquerade } from '../../lib/iface/masquerade';
import { teardown } from '../../lib/iface/teardown';
import { deleteContainerVeth } from '../../lib/iface/veth';
import type { CmdArgs } from '../../lib/skel';
import { attachmentKey, ptpState } from './attachment';

/**
 * Best effort and idempotent, from the records and the IPAM type alone (never refusing a field ADD
 * would refuse): the masquerade entries, the reservation, then the veth pair, whose host end takes
 * the gateway addresses and host routes with it. A missing netns, link or entry is success.
 */
export async function del(cmd: CmdArgs): Promise<void> {
  const key = attachmentKey(cmd);
  await teardown([
    // masquerade first: its elements are keyed by the addresses IPAM is about to hand out again
    ['remove masquerade entries', () => masquerade(cmd).remove(key)],
    ['release addresses (IPAM)', () => delegateDel(cmd)],
    ['delete veth', () => deleteVeth(cmd)],
  ]);
}

async function deleteVeth(cmd: CmdArgs): Promise<void> {
  const state = ptpState(cmd);
  const record = state.withLock(() => state.read(attachmentKey(cmd)));
  await deleteContainerVeth(cmd.netns, cmd.ifname, record?.hostVeth);
  state.withLock(() => state.remove(attachmentKey(cmd)));
}
