import * as z from 'zod/mini';
import { invalidField as invalid } from '../../lib/errors';
import { masterField, mtuField, type MasterChoice } from '../../lib/iface/master';
import { VLAN_ID_MAX } from '../../lib/netlink/vlan';
import type { CmdArgs } from '../../lib/skel';
import { NetConf, parseWith, type DNS } from '../../lib/types';

const opt = z.optional;

const VlanConf = z.extend(NetConf, {
  master: opt(z.string()),
  vlanId: opt(z.int()),
  mtu: opt(z.int()),
  linkInContainer: opt(z.boolean()),
});

/** vlan's config with defaults filled; the master is looked up in the kernel by resolveMaster. */
export interface VlanConfig extends MasterChoice {
  cniVersion: string;
  networkName: string;
  master: string;
  vlanId: number;
  ipamType: string;
  dns?: DNS;
}

export function parseConfig(cmd: CmdArgs): VlanConfig {
  const conf = parseWith(VlanConf, cmd.config, 'vlan config');
  const master = masterField(conf.master);
  if (!master) throw invalid('master', 'is required: the interface the VLAN is made on');
  // absent is 0, as in the reference (Go's zero value): a priority-tagged link
  const vlanId = conf.vlanId ?? 0;
  if (vlanId < 0 || vlanId > VLAN_ID_MAX) throw invalid('vlanId', `${vlanId} is not a VLAN id: 0 to ${VLAN_ID_MAX}`);
  const ipamType = conf.ipam?.type;
  if (!ipamType) throw invalid('ipam', 'is required: the vlan plugin configures the addresses IPAM gives');
  return {
    cniVersion: conf.cniVersion,
    networkName: conf.name,
    master,
    vlanId,
    mtu: mtuField(conf.mtu),
    linkInContainer: Boolean(conf.linkInContainer),
    ipamType,
    dns: conf.dns && Object.keys(conf.dns).length ? conf.dns : undefined,
  };
}
