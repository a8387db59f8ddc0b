import { addressingOf, containerRoutes } from '../../lib/iface/addressing';
import { configureContainer } from '../../lib/iface/configure-interface';
import { enableForwarding } from '../../lib/iface/forwarding';
import { ipamAdd, resultIPs } from '../../lib/iface/ipam';
import { masqEntries, masquerade } from '../../lib/iface/masquerade';
import { createVeth } from '../../lib/iface/veth';
import { checkDelegate } from '../../lib/invoke/delegate';
import { deleteLink, linkByIndex, openHostSocket, openSocketIn, type LinkInfo } from '../../lib/netlink';
import type { CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { UndoStack } from '../../lib/undo';
import { recordedIpam } from '../../lib/iface/veth-records';
import { attachmentKey, bridgeLinkLock, bridgeState, spoofCheck } from './records';
import { deleteBridgeIfUnused, ensureBridge, ensureGatewayAddresses } from './bridge-link';
import { parseConfig, type BridgeConfig } from './config';
import { attachToBridge, type PortSettings } from './veth';
import { deleteVlanGatewayIfUnused, ensureVlanGateway } from './vlan-gateway';

/** Container index in the result's interfaces: [bridge, host veth, container, VLAN gateway if any]. */
const CONTAINER_INTERFACE = 2;

export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  // everything that can be refused is refused before the kernel is touched
  if (conf.ipamType) await checkDelegate(conf.ipamType, cmd);
  const host = openHostSocket();
  const ctr = openSocketIn(cmd.netns);
  try {
    return await new UndoStack().run(async (undo) => {
      // from "the bridge exists" to "our veth is its port", no failed ADD may take the bridge away
      const lock = bridgeLinkLock(cmd, conf.bridge);
      const { bridge, veth, defaultPvid } = await lock.withAsync(async () => {
        const { link, created, vlans } = await ensureBridge(host, conf);
        if (created) undo.push(`bridge ${link.name}`, () => lock.withAsync(() => deleteBridgeIfUnused(host, link)));
        const pair = await createVeth(host, ctr, { netnsPath: cmd.netns, ifname: cmd.ifname, mtu: conf.mtu, mac: conf.mac });
        undo.push(`veth ${pair.host.name}`, () => deleteLink(host, pair.host.index));
        await attachToBridge(host, pair.host, link, portSettings(conf), vlans?.defaultPvid);
        return { bridge: link, veth: pair, defaultPvid: vlans?.defaultPvid };
      });

      const state = bridgeState(cmd);
      state.withLock(() => state.write(attachmentKey(cmd), { bridge: bridge.name, hostVeth: veth.host.name, netns: cmd.netns, ...recordedIpam(cmd) }));
      undo.push('bridge record', () => state.withLock(() => state.remove(attachmentKey(cmd))));

      if (conf.macSpoofCheck && veth.container.mac) {
        const spoof = spoofCheck(cmd);
        spoof.add(attachmentKey(cmd), [{ veth: veth.host.name, mac: veth.container.mac }]);
        undo.push('MAC spoof check', () => spoof.remove(attachmentKey(cmd)));
      }

      const ipam = await ipamAdd(conf.ipamType, cmd, undo);

      const addressing = addressingOf(ipam?.ips ?? []);
      const routes = containerRoutes(ipam?.routes ?? [], addressing, conf.isDefaultGateway);
      if (!conf.disableContainerInterface) {
        await configureContainer(ctr, cmd.netns, veth.container, addressing, routes, { enableDad: conf.enableDad, arpNotify: true });
      }
      let vlanGateway: LinkInfo | undefined;
      if (conf.isGateway && addressing.length) {
        if (conf.vlan) {
          // under the bridge's lock, as the bridge: a failed ADD never takes it from a concurrent one
          const gateway = await lock.withAsync(() => ensureVlanGateway(host, bridge, conf, defaultPvid));
          if (gateway.created) {
            undo.push(`VLAN gateway ${gateway.link.name}`, () => lock.withAsync(() => deleteVlanGatewayIfUnused(host, bridge, conf.vlan, gateway, [veth.host.index])));
          }
          vlanGateway = gateway.link;
        }
        await ensureGatewayAddresses(
          host,
          vlanGateway ?? bridge,
          addressing.map((a) => ({ ip: a.gateway, subnet: a.subnet })),
          conf.forceAddress,
        );
        enableForwarding(new Set(addressing.map((a) => a.ip.family)));
      }
      if (conf.ipMasq && addressing.length) {
        const masq = masquerade(cmd);
        masq.add(attachmentKey(cmd), masqEntries(addressing, conf.nonMasqueradeCIDRs));
        undo.push('masquerade entries', () => masq.remove(attachmentKey(cmd)));
      }
      const current = (await linkByIndex(host, bridge.index)) ?? bridge;
      return buildResult(cmd, conf.cniVersion, current, veth, addressing, ipam, routes, conf.dns, vlanGateway);
    });
  } finally {
    host.socket.close();
    ctr.socket.close();
  }
}

function buildResult(
  cmd: CmdArgs,
  cniVersion: string,
  bridge: LinkInfo,
  veth: { host: LinkInfo; container: LinkInfo },
  addressing: ReturnType<typeof addressingOf>,
  ipam: Result | undefined,
  routes: Result['routes'],
  dns: Result['dns'],
  vlanGateway: LinkInfo | undefined,
): Result {
  return {
    cniVersion,
    interfaces: [
      { name: bridge.name, mac: bridge.mac },
      { name: veth.host.name, mac: veth.host.mac },
      { name: veth.container.name, mac: veth.container.mac, sandbox: cmd.netns },
      // the reference appends the VLAN gateway after the container interface
      ...(vlanGateway ? [{ name: vlanGateway.name, mac: vlanGateway.mac }] : []),
    ],
    ips: resultIPs(ipam, addressing, CONTAINER_INTERFACE),
    routes,
    dns: dns ?? ipam?.dns,
  };
}

const portSettings = (conf: BridgeConfig): PortSettings => ({
  hairpin: conf.hairpinMode,
  isolated: conf.portIsolation,
  vlan: conf.vlan,
  trunk: conf.vlanTrunk,
  preserveDefaultVlan: conf.preserveDefaultVlan,
});
