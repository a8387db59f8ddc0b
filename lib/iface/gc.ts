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
  /** What the components hold, for the message when something cannot be removed. */
  what = 'entry',
): Promise<void> {
  let failure: unknown;
  try {
    await removeInvalidAttachments(components, network, cmd.validAttachments, what);
  } catch (err) {
    failure = err;
  }
  if (ipamType) await delegate(ipamType, 'GC', cmd);
  if (failure) throw failure;
}
