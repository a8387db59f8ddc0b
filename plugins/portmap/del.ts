import type { CmdArgs } from '../../lib/skel';
import { attachmentKey, portMaps } from './attachment';
import { parseConfig } from './config';

/**
 * Removes what this attachment's record says it still owns; needs neither prevResult nor the
 * runtime's portMappings (the reference does nothing without them). Idempotent.
 */
export async function del(cmd: CmdArgs): Promise<void> {
  parseConfig(cmd);
  portMaps(cmd).remove(attachmentKey(cmd));
}
