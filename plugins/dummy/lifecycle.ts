import { statusOfCreatedLink } from '../../lib/iface/link-plugin';
import { collectGarbage } from '../../lib/iface/gc';
import type { CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';

/** The IPAM plugin's STATUS: a dummy needs nothing on the host. */
export async function status(cmd: CmdArgs): Promise<void> {
  await statusOfCreatedLink(cmd, 'dummy', parseConfig(cmd).ipamType);
}

/** dummy keeps nothing on the host: GC is IPAM's. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await collectGarbage(cmd, conf.networkName, [], conf.ipamType);
}
