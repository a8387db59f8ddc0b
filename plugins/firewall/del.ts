import type { CmdArgs } from '../../lib/skel';
import { attachmentKey, firewall } from './attachment';
import { parseConfig } from './config';

/** Removes what the attachment's record says it added; needs no prevResult. Idempotent. */
export async function del(cmd: CmdArgs): Promise<void> {
  parseConfig(cmd);
  firewall(cmd).remove(attachmentKey(cmd));
}
