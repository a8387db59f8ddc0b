import { masquerade } from '../../lib/iface/masquerade';
import { deleteHostVeth } from '../../lib/iface/veth';
import { delegate } from '../../lib/invoke/delegate';
import type { CmdArgs } from '../../lib/skel';
import type { StateEnv } from '../../lib/state/attachment-state';
import { removeInvalidAttachments, type CollectableComponent } from '../../lib/state/collect-garbage';
import { ptpState } from './attachment';
import { parseConfig } from './config';

/** Ready when the IPAM plugin says it is (ptp itself needs nothing shared on the host). */
export async function status(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await delegate(conf.ipamType, 'STATUS', cmd);
}

/** Removes the masquerade entries and host veths of attachments no longer valid, then lets IPAM do the same. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  let failure: unknown;
  try {
    await removeInvalidAttachments([masquerade(cmd), ptpRecords(cmd)], conf.networkName, cmd.validAttachments, 'entry');
  } catch (err) {
    failure = err;
  }
  await delegate(conf.ipamType, 'GC', cmd);
  if (failure) throw failure;
}

/** ptp's own records: a stale one's host veth goes too, if something still holds it. */
function ptpRecords(cmd: StateEnv): CollectableComponent {
  const state = ptpState(cmd);
  return {
    attachments: (network) => state.withLock(() => state.list(network).map((r) => r.key)),
    async collect(key) {
      const record = state.withLock(() => state.read(key));
      if (record) await deleteHostVeth(record.hostVeth);
      state.withLock(() => state.remove(key));
    },
  };
}
