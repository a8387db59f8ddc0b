import { addressingOf } from '../../lib/iface/addressing';
import { configureContainer } from '../../lib/iface/configure-interface';
import { enableForwarding } from '../../lib/iface/forwarding';
import { ipamAdd, resultIPs } from '../../lib/iface/ipam';
import { masqEntries, masquerade } from '../../lib/iface/masquerade';
import { createVeth, requireFreeName } from '../../lib/iface/veth';
import { checkDelegate } from '../../lib/invoke/delegate';
import { deleteLink, openHostSocket, openSocketIn } from '../../lib/netlink';
import type { CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { UndoStack } from '../../lib/undo';
import { recordedIpam } from '../../lib/iface/veth-records';
import { attachmentKey, ptpState } from './records';
import { parseConfig } from './config';
import { pointToPointRoutes, requireGateways, setupHostVeth } from './routes';

/** Container index in the result's interfaces: [host veth, container]. */
const CONTAINER_INTERFACE = 1;

export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  // everything that can be refused is refused before the kernel is touched
  await checkDelegate(conf.ipamType, cmd);
  const host = openHostSocket();
  const ctr = openSocketIn(cmd.netns);
  try {
    // before IPAM: a repeated ADD gets the live attachment's addresses back, which its undo would release
    await requireFreeName(ctr, { netnsPath: cmd.netns, ifname: cmd.ifname });
    return await new UndoStack().run(async (undo) => {
      // IPAM first, as the reference: an address without a gateway is refused before any link exists
      const ipam = (await ipamAdd(conf.ipamType, cmd, undo))!;
      requireGateways(ipam.ips!, conf.ipamType);
      const addressing = addressingOf(ipam.ips!);
      enableForwarding(new Set(addressing.map((a) => a.ip.family)));

      const veth = await createVeth(host, ctr, { netnsPath: cmd.netns, ifname: cmd.ifname, mtu: conf.mtu });
      undo.push(`veth ${veth.host.name}`, () => deleteLink(host, veth.host.index));
      const state = ptpState(cmd);
      state.withLock(() => state.write(attachmentKey(cmd), { hostVeth: veth.host.name, netns: cmd.netns, ...recordedIpam(cmd) }));
      undo.push('ptp record', () => state.withLock(() => state.remove(attachmentKey(cmd))));

      await setupHostVeth(host, veth.host, addressing);
      await configureContainer(ctr, cmd.netns, veth.container, addressing, ipam.routes ?? [], {
        enableDad: false,
        beforeRoutes: () => pointToPointRoutes(ctr, veth.container, addressing),
      });
      if (conf.ipMasq) {
        const masq = masquerade(cmd);
        masq.add(attachmentKey(cmd), masqEntries(addressing, conf.nonMasqueradeCIDRs));
        undo.push('masquerade entries', () => masq.remove(attachmentKey(cmd)));
      }
      return {
        cniVersion: conf.cniVersion,
        interfaces: [
          { name: veth.host.name, mac: veth.host.mac },
          { name: veth.container.name, mac: veth.container.mac, sandbox: cmd.netns },
        ],
        ips: resultIPs(ipam, addressing, CONTAINER_INTERFACE),
        routes: ipam.routes,
        dns: conf.dns ?? ipam.dns,
      };
    });
  } finally {
    host.socket.close();
    ctr.socket.close();
  }
}
