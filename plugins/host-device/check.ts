import { CniError, ErrorCode } from '../../lib/errors';
import { checkContainerLink, checkPrevious } from '../../lib/iface/container-link';
import { openSocketIn } from '../../lib/netlink';
import { linkDetails } from '../../lib/netlink/link-details';
import type { CmdArgs } from '../../lib/skel';
import { attachmentKey, hostDeviceState } from './records';
import { parseConfig } from './config';
import { isDpdkDevice, resolveDeviceID } from './device';

/**
 * The reference's CHECK (IPAM's CHECK; prevResult's interface in this sandbox; a DPDK device stops
 * there; the container link with prevResult's MAC, addresses and routes), and that the link is the
 * device ADD moved in: its alias is the host name recorded for this attachment.
 */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const { prev, entry } = await checkPrevious(cmd, conf.ipamType);
  const { pciBusID } = resolveDeviceID(conf.selector);
  if (pciBusID && isDpdkDevice(pciBusID)) return;
  const ctr = openSocketIn(cmd.netns);
  try {
    const link = await checkContainerLink(ctr, cmd, prev, { kind: false, mac: entry.mac });
    const state = hostDeviceState(cmd);
    const record = state.withLock(() => state.read(attachmentKey(cmd)));
    const alias = (await linkDetails(ctr, { index: link.index }))?.alias;
    if (record && alias !== record.device.name) {
      throw new CniError(
        ErrorCode.CheckFailed,
        `container interface ${JSON.stringify(cmd.ifname)} is not host device ${JSON.stringify(record.device.name)} (its alias is ${JSON.stringify(alias ?? '')})`,
      );
    }
  } finally {
    ctr.socket.close();
  }
}
