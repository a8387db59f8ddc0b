import { collectGarbage } from '../../lib/iface/gc';
import { delegate } from '../../lib/invoke/delegate';
import type { CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';

/** Ready when the IPAM plugin says it is (the tap needs nothing on the host). */
export async function status(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  if (conf.ipamType) await delegate(conf.ipamType, 'STATUS', cmd);
}

/** tap keeps nothing on the host (its links go with their namespaces): GC is IPAM's. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await collectGarbage(cmd, conf.networkName, [], conf.ipamType);
}
