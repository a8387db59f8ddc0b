import { teardown } from '../../lib/iface/teardown';
import { delegateDel } from '../../lib/invoke/delegate';
import type { DelArgs } from '../../lib/skel';
import { attachmentKey } from './records';
import { giveBack } from './restore';

/**
 * Best effort and idempotent, from the record and the IPAM type alone (not reading sysfs): the reservation, then the device back to the host under its
 * own name with its alias, MTU, MAC, addresses and up state as before ADD, also after the
 * container's namespace is gone (the kernel returns physical devices to the host).
 */
export async function del(cmd: DelArgs): Promise<void> {
  await teardown([
    ['release addresses (IPAM)', () => delegateDel(cmd)],
    ['give the device back to the host', () => giveBack(cmd, attachmentKey(cmd), cmd.netns)],
  ]);
}
