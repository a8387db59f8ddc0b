import { linkByName, openHostSocket, openSocketIn } from '../../lib/netlink';
import { netnsExists } from '../../lib/netns';
import type { AttachmentKey } from '../../lib/state/attachment-state';
import type { StateEnv } from '../../lib/state/attachment-state';
import { log } from '../../lib/log';
import { hostDeviceState } from './records';
import { moveOut, recoverReturned } from './move';

/**
 * Gives an attachment's device back to the host, from the container when its namespace still
 * holds it, else from where the kernel left it when the namespace went; then forgets the record.
 * Nothing to give back (no record, no such link in the container) is success.
 */
export async function giveBack(cmd: StateEnv, key: AttachmentKey, netnsPath: string): Promise<void> {
  const state = hostDeviceState(cmd);
  const record = state.withLock(() => state.read(key));
  const netns = netnsPath || record?.netns || '';
  const host = openHostSocket();
  try {
    let done = false;
    if (netns && netnsExists(netns)) {
      const ctr = openSocketIn(netns);
      try {
        const link = await linkByName(ctr, key.ifname);
        if (link) {
          await moveOut(ctr, host, link, record?.device);
          done = true;
        }
      } finally {
        ctr.socket.close();
      }
    }
    if (!done && record && !(await recoverReturned(host, record.device))) {
      log.info('DEL: the host device is gone (a virtual device dies with its namespace)', { device: record.device.name });
    }
  } finally {
    host.socket.close();
  }
  state.withLock(() => state.remove(key));
}
