import { delegateDel } from '../../lib/invoke/delegate';
import { masquerade } from '../../lib/iface/masquerade';
import { teardown } from '../../lib/iface/teardown';
import { deleteRecordedVeth } from '../../lib/iface/veth-records';
import type { DelArgs } from '../../lib/skel';
import { attachmentKey, bridgeState, spoofCheck } from './records';

/**
 * Best effort and idempotent: every step is tried, a missing netns, link, address or rule is
 * success, and the other failures are reported together at the end. Reads only what finds the
 * attachment's state (the records, the IPAM type).
 */
export async function del(cmd: DelArgs): Promise<void> {
  const key = attachmentKey(cmd);
  await teardown([
    // masquerade first: its elements are keyed by the addresses IPAM is about to hand out again
    ['remove masquerade entries', () => masquerade(cmd).remove(key)],
    ['remove MAC spoof check', () => spoofCheck(cmd).remove(key)],
    ['release addresses (IPAM)', () => delegateDel(cmd)],
    ['delete veth', () => deleteRecordedVeth(cmd, bridgeState(cmd))],
  ]);
}
