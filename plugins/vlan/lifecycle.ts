import { statusOfCreatedLink } from '../../lib/iface/link-plugin';
import { collectGarbage } from '../../lib/iface/gc';
import type { CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';

/** Ready when the master is in the host (unless linkInContainer) and the IPAM plugin says it is ready. */
export async function status(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await statusOfCreatedLink(cmd, 'vlan', conf.ipamType, conf);
}

/** vlan keeps nothing on the host: GC is IPAM's. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await collectGarbage(cmd, conf.networkName, [], conf.ipamType);
}
