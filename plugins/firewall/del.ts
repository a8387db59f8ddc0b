import type { DelArgs } from '../../lib/skel';
import { attachmentKey, firewall } from './records';

/** Removes what the attachment's record says it added; needs no prevResult and reads no field of the config. Idempotent. */
export async function del(cmd: DelArgs): Promise<void> {
  firewall(cmd).remove(attachmentKey(cmd));
}
