import { CniError, ErrorCode } from '../../lib/errors';
import { delegate } from '../../lib/invoke/delegate';
import { linkByName, openHostSocket } from '../../lib/netlink';
import type { CmdArgs } from '../../lib/skel';
import { collectGarbage } from '../../lib/iface/gc';
import { masquerade } from '../../lib/iface/masquerade';
import { vethRecords } from '../../lib/iface/veth-records';
import { bridgeState, spoofCheck } from './records';
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

/** Removes the nftables entries and host veths of attachments no longer valid, then lets IPAM do the same. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await collectGarbage(cmd, conf.networkName, [masquerade(cmd), spoofCheck(cmd), vethRecords(bridgeState(cmd))], conf.ipamType);
}
