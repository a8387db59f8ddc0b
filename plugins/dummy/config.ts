import { invalidField as invalid } from '../../lib/errors';
import type { CmdArgs } from '../../lib/skel';
import { NetConf, parseWith } from '../../lib/types';

/** dummy's config: the reference's has no fields of its own, and IPAM is required. */
export interface DummyConfig {
  cniVersion: string;
  networkName: string;
  ipamType: string;
}

export function parseConfig(cmd: CmdArgs): DummyConfig {
  const conf = parseWith(NetConf, cmd.config, 'dummy config');
  const ipamType = conf.ipam?.type;
  if (!ipamType) throw invalid('ipam', 'is required: a dummy interface is there for the addresses IPAM gives');
  return { cniVersion: conf.cniVersion, networkName: conf.name, ipamType };
}
