import { addressContainerLink, containerLinkResult } from '../../lib/iface/container-link';
import { ipamAdd } from '../../lib/iface/ipam';
import { checkDelegate } from '../../lib/invoke/delegate';
import { openHostSocket, openSocketIn } from '../../lib/netlink';
import type { CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { requireFreeName } from '../../lib/iface/veth';
import { UndoStack } from '../../lib/undo';
import { attachmentKey, hostDeviceState } from './records';
import { parseConfig, type HostDeviceConfig } from './config';
import { findHostDevice, isDpdkDevice, resolveDeviceID } from './device';
import { deviceState, moved, moveIn, moveOut } from './move';

export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  // everything that can be refused is refused before the kernel is touched
  if (conf.ipamType) await checkDelegate(conf.ipamType, cmd);
  const { pciBusID } = resolveDeviceID(conf.selector);
  if (pciBusID && isDpdkDevice(pciBusID)) return addDpdk(cmd, conf);
  const host = openHostSocket();
  const ctr = openSocketIn(cmd.netns);
  try {
    const device = await findHostDevice(host, conf.selector);
    await requireFreeName(ctr, { netnsPath: cmd.netns, ifname: cmd.ifname });
    const original = await deviceState(host, device);
    return await new UndoStack().run(async (undo) => {
      // recorded before the device leaves the host, so a DEL after a crash knows what to give back
      const state = hostDeviceState(cmd);
      state.withLock(() => state.write(attachmentKey(cmd), { netns: cmd.netns, device: original }));
      undo.push('host-device record', () => state.withLock(() => state.remove(attachmentKey(cmd))));
      undo.push(`${device.name} back to the host`, async () => {
        const link = await moved(ctr, original, cmd.ifname);
        if (link) await moveOut(ctr, host, link, original);
      });
      const link = await moveIn(host, ctr, device, cmd.netns, cmd.ifname);
      const addressing = await addressContainerLink(ctr, cmd, link, conf.ipamType, undo, { enableDad: true });
      return containerLinkResult(conf.cniVersion, cmd, link, addressing, conf.dns);
    });
  } finally {
    host.socket.close();
    ctr.socket.close();
  }
}

/**
 * A PCI device bound to a user-space driver (DPDK) has no kernel interface: as the reference,
 * nothing moves, IPAM still runs and its addresses are reported (for the workload to use), and
 * the result names the interface without a MAC.
 */
async function addDpdk(cmd: CmdArgs, conf: HostDeviceConfig): Promise<Result> {
  return new UndoStack().run(async (undo) => {
    const ipam = await ipamAdd(conf.ipamType, cmd, undo);
    return {
      cniVersion: conf.cniVersion,
      interfaces: [{ name: cmd.ifname, sandbox: cmd.netns }],
      ...(ipam ? { ips: ipam.ips!.map((ip) => ({ ...ip, interface: 0 })), routes: ipam.routes } : {}),
      dns: conf.dns,
    };
  });
}
