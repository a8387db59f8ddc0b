import { statusOfCreatedLink } from '../../lib/iface/link-plugin';
import { collectGarbage } from '../../lib/iface/gc';
import type { CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';

/**
 * Ready when the master an ADD would use is there (the reference leaves this as a TODO; a master
 * in containers, linkInContainer, cannot be looked at from here) and the IPAM plugin says it is ready.
 */
export async function status(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await statusOfCreatedLink(cmd, 'macvlan', conf.ipamType, conf);
}

/** macvlan keeps nothing on the host (its links go with their namespaces): GC is IPAM's. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await collectGarbage(cmd, conf.networkName, [], conf.ipamType);
}
