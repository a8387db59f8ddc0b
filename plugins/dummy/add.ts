import { addCreatedLink } from '../../lib/iface/link-plugin';
import type { CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { parseConfig } from './config';

/** A dummy link made in the container with IPAM's addresses; the result's dns is IPAM's, as the reference's. */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  return addCreatedLink(cmd, {
    cniVersion: conf.cniVersion,
    link: { kind: 'dummy' },
    ipamType: conf.ipamType,
    dnsFromIpam: true,
    addressing: { enableDad: true },
  });
}
