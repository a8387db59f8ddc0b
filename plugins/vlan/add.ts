import { addCreatedLink } from '../../lib/iface/link-plugin';
import { vlanInfoData } from '../../lib/netlink/vlan';
import type { CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { parseConfig } from './config';

/** The 802.1Q link with id vlanId, born in the container on its master, with IPAM's addresses. */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  return addCreatedLink(cmd, {
    cniVersion: conf.cniVersion,
    link: { kind: 'vlan', infoData: vlanInfoData(conf.vlanId), mtu: conf.mtu },
    master: conf,
    ipamType: conf.ipamType,
    dns: conf.dns,
    addressing: { enableDad: true },
  });
}
