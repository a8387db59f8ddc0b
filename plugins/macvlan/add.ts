import { addCreatedLink } from '../../lib/iface/link-plugin';
import { macvlanInfoData } from '../../lib/netlink/macvlan';
import type { CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { parseConfig } from './config';

/**
 * The macvlan, born in the container on its master with its mode, MTU, MAC and broadcast queue
 * length; as the reference: arp_notify and ndisc_notify with addresses, DAD settled before the result.
 */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  return addCreatedLink(cmd, {
    cniVersion: conf.cniVersion,
    link: { kind: 'macvlan', infoData: macvlanInfoData(conf.mode, conf.bcQueueLen), mtu: conf.mtu, mac: conf.mac },
    master: conf,
    ipamType: conf.ipamType,
    dns: conf.dns,
    addressing: { enableDad: true, arpNotify: true, ndiscNotify: true },
  });
}
