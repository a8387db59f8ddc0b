import { CniError, ErrorCode } from '../errors';
import type { Attachment } from '../types';
import type { AttachmentKey } from './attachment-state';
import type { OwnedEntries } from './owned-entries';

/**
 * CNI GC for components with owned entries: removes the records (and what they own) of
 * `network`'s attachments that are not in cni.dev/valid-attachments. Tries every one, then
 * reports those it could not remove.
 */
export function removeInvalidAttachments(components: Array<Pick<OwnedEntries<unknown>, 'attachments' | 'remove'>>, network: string, valid: Attachment[] | undefined, what: string): void {
  const isValid = (key: AttachmentKey) => (valid ?? []).some((v) => v.containerID === key.containerId && v.ifname === key.ifname);
  const failures: string[] = [];
  for (const component of components) {
    for (const key of component.attachments(network).filter((k) => !isValid(k))) {
      try {
        component.remove(key);
      } catch (err) {
        failures.push(`${key.containerId}/${key.ifname}: ${(err as Error).message}`);
      }
    }
  }
  if (failures.length) throw new CniError(ErrorCode.NftablesFailure, `GC could not remove every stale ${what}: ${failures.join('; ')}`);
}
