import { throwFailures, tryEach } from '../best-effort';
import type { ValidAttachment } from '../types';
import type { AttachmentKey, AttachmentState } from './attachment-state';

/** A component that keeps a record per attachment. */
export interface CollectableComponent {
  attachments(network: string): AttachmentKey[];
  /** Removes everything the attachment has, with or without a readable record. */
  collect(key: AttachmentKey): void | Promise<void>;
}

/** A component whose records say what to undo: `undo` runs with each readable record, then the record goes. */
export function collectableRecords<T>(state: AttachmentState<T>, undo: (key: AttachmentKey, record: T) => Promise<void>): CollectableComponent {
  return {
    attachments: (network) => state.withLock(() => state.list(network).map((r) => r.key)),
    collect: async (key) => {
      const record = state.withLock(() => state.read(key));
      if (record !== undefined) await undo(key, record);
      state.withLock(() => state.remove(key));
    },
  };
}

/**
 * CNI GC: removes the records (and what they own) of
 * `network`'s attachments that are not in cni.dev/valid-attachments. Tries every one, then
 * reports those it could not remove, with the first failure's own code.
 */
export async function removeInvalidAttachments(components: CollectableComponent[], network: string, valid: ValidAttachment[] | undefined, what: string): Promise<void> {
  const isValid = (key: AttachmentKey) => (valid ?? []).some((v) => v.containerID === key.containerId && v.ifname === key.ifname);
  const removals = components.flatMap((component) =>
    component
      .attachments(network)
      .filter((k) => !isValid(k))
      .map((key): [string, () => unknown] => [`${key.containerId}/${key.ifname}`, () => component.collect(key)]),
  );
  throwFailures(`GC could not remove every stale ${what}`, await tryEach(removals, 'GC: '));
}
