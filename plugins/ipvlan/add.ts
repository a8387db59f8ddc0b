import { addCreatedLink } from '../../lib/iface/link-plugin';
import { ipvlanInfoData } from '../../lib/netlink/ipvlan';
import type { CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { addInputs, parseConfig } from './config';

/**
 * The ipvlan, born in the container on its master, with IPAM's addresses (or, chained without
 * IPAM, prevResult's); arp_notify and ndisc_notify as the reference sets them.
 */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  const { master, chained } = addInputs(conf, cmd);
  return addCreatedLink(cmd, {
    cniVersion: conf.cniVersion,
    link: { kind: 'ipvlan', infoData: ipvlanInfoData(conf.mode), mtu: conf.mtu },
    master: { master, linkInContainer: conf.linkInContainer, mtu: conf.mtu },
    ipamType: conf.ipamType,
    chained,
    dns: conf.dns,
    addressing: { enableDad: true, arpNotify: true, ndiscNotify: true },
  });
}
