import { ErrorCode } from '../errors';
import { delegate } from '../invoke/delegate';
import type { CmdArgs } from '../skel';
import { removeInvalidAttachments, type CollectableComponent } from '../state/collect-garbage';

/**
 * An interface plugin's GC: what its components hold for attachments not in
 * cni.dev/valid-attachments, then its IPAM plugin's GC, which runs even when the first part failed
 * (that failure is reported after it).
 */
export async function collectGarbage(
  cmd: CmdArgs,
  network: string,
  components: CollectableComponent[],
  ipamType: string | undefined,
  /** How a failure to remove something is reported: what the components hold, and the code (default: nftables entries, 130). */
  reported: { what: string; code: number } = { what: 'entry', code: ErrorCode.NftablesFailure },
): Promise<void> {
  let failure: unknown;
  try {
    await removeInvalidAttachments(components, network, cmd.validAttachments, reported.what, reported.code);
  } catch (err) {
    failure = err;
  }
  if (ipamType) await delegate(ipamType, 'GC', cmd);
  if (failure) throw failure;
}
