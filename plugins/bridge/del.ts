import { CniError, ErrorCode } from '../../lib/errors';
import { delegateDel } from '../../lib/invoke/delegate';
import { log } from '../../lib/log';
import { deleteLink, linkByName, openSocketIn } from '../../lib/netlink';
import { netnsExists } from '../../lib/netns';
import type { CmdArgs } from '../../lib/skel';
import { masquerade } from '../../lib/iface/masquerade';
import { deleteHostVeth } from '../../lib/iface/veth';
import { attachmentKey, bridgeState, spoofCheck } from './attachment';

/**
 * Best effort and idempotent: every step is tried, a missing netns, link, address or rule is
 * success, and the other failures are reported together at the end. Reads only what finds the
 * attachment's state (the records, the IPAM type), never refusing a field ADD would refuse.
 */
export async function del(cmd: CmdArgs): Promise<void> {
  const key = attachmentKey(cmd);
  const failures: string[] = [];
  const attempt = async (what: string, step: () => unknown) => {
    try {
      await step();
    } catch (err) {
      log.warn(`DEL: ${what} failed`, { error: (err as Error).message });
      failures.push(`${what}: ${(err as Error).message}`);
    }
  };
  // masquerade first: its elements are keyed by the addresses IPAM is about to hand out again
  await attempt('remove masquerade entries', () => masquerade(cmd).remove(key));
  await attempt('remove MAC spoof check', () => spoofCheck(cmd).remove(key));
  await attempt('release addresses (IPAM)', () => delegateDel(cmd));
  await attempt('delete veth', () => deleteVeth(cmd));
  if (failures.length) throw new CniError(ErrorCode.LinkFailure, `DEL finished with errors: ${failures.join('; ')}`);
}

async function deleteVeth(cmd: CmdArgs): Promise<void> {
  const state = bridgeState(cmd);
  const record = state.withLock(() => state.read(attachmentKey(cmd)));
  if (netnsExists(cmd.netns)) {
    const ctr = openSocketIn(cmd.netns);
    try {
      const link = await linkByName(ctr, cmd.ifname);
      if (link) await deleteLink(ctr, link.index);
    } finally {
      ctr.socket.close();
    }
  } else if (record) {
    // the namespace path is gone; its veth normally went with it, but a namespace kept alive elsewhere keeps it
    await deleteHostVeth(record.hostVeth);
  }
  state.withLock(() => state.remove(attachmentKey(cmd)));
}
