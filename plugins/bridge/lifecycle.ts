import { CniError, ErrorCode } from '../../lib/errors';
import { delegate } from '../../lib/invoke/delegate';
import { linkByName, openHostSocket } from '../../lib/netlink';
import type { CmdArgs } from '../../lib/skel';
import type { AttachmentKey } from '../../lib/state/attachment-state';
import { masquerade, spoofCheck } from './attachment';
import { parseConfig } from './config';

/** Ready when the bridge name is free or a bridge, and the IPAM plugin says it is ready. */
export async function status(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const host = openHostSocket();
  try {
    const link = await linkByName(host, conf.bridge);
    if (link && link.kind !== 'bridge') {
      throw new CniError(ErrorCode.PluginNotAvailable, `bridge name ${JSON.stringify(conf.bridge)} is taken by an interface that is not a bridge`);
    }
  } finally {
    host.socket.close();
  }
  if (conf.ipamType) await delegate(conf.ipamType, 'STATUS', cmd);
}

/** Removes the nftables entries of attachments no longer valid, then lets IPAM do the same. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const valid = cmd.validAttachments ?? [];
  const isValid = (key: AttachmentKey) => valid.some((v) => v.containerID === key.containerId && v.ifname === key.ifname);
  const failures: string[] = [];
  for (const component of [masquerade(cmd), spoofCheck(cmd)]) {
    for (const key of component.attachments(conf.networkName).filter((k) => !isValid(k))) {
      try {
        component.remove(key);
      } catch (err) {
        failures.push(`${key.containerId}/${key.ifname}: ${(err as Error).message}`);
      }
    }
  }
  if (conf.ipamType) await delegate(conf.ipamType, 'GC', cmd);
  if (failures.length) throw new CniError(ErrorCode.NftablesFailure, `GC could not remove every stale entry: ${failures.join('; ')}`);
}
