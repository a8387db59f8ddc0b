import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { attachmentKey, firewall, hostFirewall } from './records';
import { parseConfig } from './config';
import { planEntries } from './entries';

/** Installs the attachment's allow rules and its bridge's isolation, and passes prevResult through. */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  const prev = requirePrevResult(cmd, 'firewall');
  firewall(cmd).add(attachmentKey(cmd), planEntries(conf, prev, hostFirewall(cmd.env)));
  return prev;
}
