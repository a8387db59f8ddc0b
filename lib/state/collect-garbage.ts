import { CniError, ErrorCode } from '../errors';
import type { ValidAttachment } from '../types';
import type { AttachmentKey } from './attachment-state';

/** A component that keeps a record per attachment. */
export interface CollectableComponent {
  attachments(network: string): AttachmentKey[];
  /** Removes everything the attachment has, with or without a readable record. */
  collect(key: AttachmentKey): void | Promise<void>;
}

/**
 * CNI GC: removes the records (and what they own) of
 * `network`'s attachments that are not in cni.dev/valid-attachments. Tries every one, then
 * reports those it could not remove.
 */
export async function removeInvalidAttachments(
  components: CollectableComponent[],
  network: string,
  valid: ValidAttachment[] | undefined,
  what: string,
  code: number = ErrorCode.NftablesFailure,
): Promise<void> {
  const isValid = (key: AttachmentKey) => (valid ?? []).some((v) => v.containerID === key.containerId && v.ifname === key.ifname);
  const failures: string[] = [];
  for (const component of components) {
    for (const key of component.attachments(network).filter((k) => !isValid(k))) {
      try {
        await component.collect(key);
      } catch (err) {
        failures.push(`${key.containerId}/${key.ifname}: ${(err as Error).message}`);
      }
    }
  }
  if (failures.length) throw new CniError(code, `GC could not remove every stale ${what}: ${failures.join('; ')}`);
}
