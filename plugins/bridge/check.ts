import { CniError, ErrorCode } from '../../lib/errors';
import { checkContainer, containerIPs } from '../../lib/iface/container';
import { checkMasquerade } from '../../lib/iface/masquerade';
import { delegate } from '../../lib/invoke/delegate';
import { linkByName, openHostSocket, openSocketIn, type RtNetlinkSocket } from '../../lib/netlink';
import type { CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { attachmentKey, spoofCheck } from './attachment';
import { parseConfig, type BridgeConfig } from './config';

const fail = (what: string) => new CniError(ErrorCode.CheckFailed, what);

/** Verifies what ADD set up against prevResult: bridge, enslaved host veth, container addresses and routes, IPAM, masquerade. */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const prev = cmd.prevResult;
  if (!prev) throw new CniError(ErrorCode.InvalidNetworkConfig, 'CHECK needs "prevResult" (the result of ADD)');
  if (conf.ipamType) await delegate(conf.ipamType, 'CHECK', cmd);
  const ips = containerIPs(cmd, prev);
  const host = openHostSocket();
  const ctr = openSocketIn(cmd.netns);
  try {
    await checkHostSide(host, conf, prev);
    await checkContainer(ctr, cmd, ips, prev.routes ?? []);
  } finally {
    host.socket.close();
    ctr.socket.close();
  }
  if (conf.macSpoofCheck) {
    const spoof = spoofCheck(cmd);
    const entries = spoof.recorded(attachmentKey(cmd));
    if (!entries || spoof.missing(entries).length) throw fail('MAC spoof check entries are missing from nftables table bridge cni_ts');
    const broken = spoof.brokenStructure(entries);
    if (broken.length) throw fail(`the MAC spoof check cannot work: ${broken.join('; ')}`);
  }
  if (conf.ipMasq) checkMasquerade(cmd, ips, conf.nonMasqueradeCIDRs);
}

async function checkHostSide(host: RtNetlinkSocket, conf: BridgeConfig, prev: Result): Promise<void> {
  const bridge = await linkByName(host, conf.bridge);
  if (bridge?.kind !== 'bridge') throw fail(`bridge ${JSON.stringify(conf.bridge)} is missing or not a bridge`);
  const hostVeth = (prev.interfaces ?? []).find((i) => !i.sandbox && i.name !== conf.bridge);
  if (!hostVeth) return;
  const link = await linkByName(host, hostVeth.name);
  if (!link) throw fail(`host veth ${JSON.stringify(hostVeth.name)} is missing`);
  if (link.masterIndex !== bridge.index) throw fail(`host veth ${JSON.stringify(hostVeth.name)} is not attached to bridge ${JSON.stringify(conf.bridge)}`);
}
