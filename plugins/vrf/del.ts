import { withLinkIn } from '../../lib/netlink';
import { netnsExists } from '../../lib/netns';
import type { DelArgs } from '../../lib/skel';
import { lenientString } from '../../lib/types';
import { leave } from './device';
import { attachmentKey, vrfState } from './records';

/**
 * The interface out of its VRF, and the VRF deleted when it was the last one in it; by the record,
 * else by the config's `vrfname`. A missing namespace, interface or VRF is success. Idempotent.
 */
export async function del(cmd: DelArgs): Promise<void> {
  const state = vrfState(cmd);
  const key = attachmentKey(cmd);
  const record = state.withLock(() => state.readRecord(key)).data;
  await leaveIn(record?.netns || cmd.netns, record?.vrf ?? lenientString(cmd.config, 'vrfname'), cmd.ifname);
  state.withLock(() => state.remove(key));
}

export async function leaveIn(netns: string, vrf: string | undefined, ifname: string): Promise<void> {
  if (!vrf || !netns || !netnsExists(netns)) return;
  await withLinkIn(netns, ifname, (sock) => leave(sock, vrf, ifname));
}
