import { CniError, ErrorCode } from '../../lib/errors';
import { collectGarbage } from '../../lib/iface/gc';
import { delegate } from '../../lib/invoke/delegate';
import { openHostSocket } from '../../lib/netlink';
import type { CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';
import { resolveMaster } from './master';

/**
 * Ready when the master an ADD would use is there (the reference leaves this as a TODO; a master
 * in containers, linkInContainer, cannot be looked at from here) and the IPAM plugin says it is ready.
 */
export async function status(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  if (!conf.linkInContainer) {
    const host = openHostSocket();
    try {
      await resolveMaster(conf, host);
    } catch (err) {
      if (err instanceof CniError) throw new CniError(ErrorCode.PluginNotAvailable, `macvlan cannot add interfaces: ${err.message}`);
      throw err;
    } finally {
      host.socket.close();
    }
  }
  if (conf.ipamType) await delegate(conf.ipamType, 'STATUS', cmd);
}

/** macvlan keeps nothing on the host (its links go with their namespaces): GC is IPAM's. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await collectGarbage(cmd, conf.networkName, [], conf.ipamType);
}
