import type { DelArgs } from '../../lib/skel';
import { attachmentKey, portMaps } from './records';

/**
 * Removes what this attachment's record says it still owns; needs neither prevResult nor the
 * runtime's portMappings (the reference does nothing without them), and reads no field of the
 * config. Idempotent.
 */
export async function del(cmd: DelArgs): Promise<void> {
  portMaps(cmd).remove(attachmentKey(cmd));
}
