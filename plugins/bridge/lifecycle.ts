import { CniError, ErrorCode } from '../../lib/errors';
import { delegate } from '../../lib/invoke/delegate';
import { linkByName, openHostSocket } from '../../lib/netlink';
import type { CmdArgs } from '../../lib/skel';
import { removeInvalidAttachments, type CollectableComponent } from '../../lib/state/collect-garbage';
import type { StateEnv } from '../../lib/state/attachment-state';
import { masquerade } from '../../lib/iface/masquerade';
import { deleteHostVeth } from '../../lib/iface/veth';
import { bridgeState, spoofCheck } from './attachment';
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
  let failure: unknown;
  try {
    await removeInvalidAttachments([masquerade(cmd), spoofCheck(cmd), bridgeRecords(cmd)], conf.networkName, cmd.validAttachments, 'entry');
  } catch (err) {
    failure = err;
  }
  if (conf.ipamType) await delegate(conf.ipamType, 'GC', cmd);
  if (failure) throw failure;
}

/** The bridge's own records: a stale one's host veth goes too, if something still holds it. */
function bridgeRecords(cmd: StateEnv): CollectableComponent {
  const state = bridgeState(cmd);
  return {
    attachments: (network) => state.withLock(() => state.list(network).map((r) => r.key)),
    async collect(key) {
      const record = state.withLock(() => state.read(key));
      if (record) await deleteHostVeth(record.hostVeth);
      state.withLock(() => state.remove(key));
    },
  };
}
