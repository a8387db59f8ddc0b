import { delegateDel } from '../../lib/invoke/delegate';
import { masquerade } from '../../lib/iface/masquerade';
import { teardown } from '../../lib/iface/teardown';
import { deleteRecordedVeth } from '../../lib/iface/veth-records';
import type { DelArgs } from '../../lib/skel';
import { attachmentKey, ptpState } from './records';

/**
 * Best effort and idempotent, from the records and the IPAM type alone: the masquerade entries, the reservation, then the veth pair, whose host end takes
 * the gateway addresses and host routes with it. A missing netns, link or entry is success.
 */
export async function del(cmd: DelArgs): Promise<void> {
  const key = attachmentKey(cmd);
  await teardown([
    // masquerade first: its elements are keyed by the addresses IPAM is about to hand out again
    ['remove masquerade entries', () => masquerade(cmd).remove(key)],
    ['release addresses (IPAM)', () => delegateDel(cmd)],
    ['delete veth', () => deleteRecordedVeth(cmd, ptpState(cmd))],
  ]);
}
