import type { CmdArgs, DelArgs } from '../skel';
import { attachmentKey, type AttachmentState } from '../state/attachment-state';
import { type CollectableComponent, collectableRecords } from '../state/collect-garbage';
import { deleteContainerVeth, deleteHostVeth } from './veth';

/** What a veth plugin records per attachment: the host end's name, to find the pair once the namespace path is gone. */
export interface VethRecord {
  hostVeth: string;
  /** The config's IPAM section (see recordedIpam). */
  ipam?: Record<string, unknown>;
}

/** The config's IPAM section for the record, so that `cni-ts gc` can release the addresses once the config file is gone. */
export function recordedIpam(cmd: CmdArgs): { ipam?: Record<string, unknown> } {
  const ipam = (cmd.config as { ipam?: unknown }).ipam;
  return ipam && typeof ipam === 'object' ? { ipam: ipam as Record<string, unknown> } : {};
}

/** DEL of the attachment's veth pair (see deleteContainerVeth), then of its record. */
export async function deleteRecordedVeth(cmd: DelArgs, state: AttachmentState<VethRecord>): Promise<void> {
  const key = attachmentKey(cmd);
  const record = state.withLock(() => state.read(key));
  await deleteContainerVeth(cmd.netns, cmd.ifname, record?.hostVeth);
  state.withLock(() => state.remove(key));
}

/** The records for GC: a stale one's host veth goes too, if something still holds it. */
export const vethRecords = (state: AttachmentState<VethRecord>): CollectableComponent => collectableRecords(state, (_key, record) => deleteHostVeth(record.hostVeth));
