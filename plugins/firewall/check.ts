import { CniError, ErrorCode } from '../../lib/errors';
import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import { attachmentKey, firewall, hostFirewall } from './records';
import { parseConfig } from './config';
import { describeEntry, planEntries, type FirewallEntry } from './entries';

const fail = (what: string) => new CniError(ErrorCode.CheckFailed, what);
const describe = (entries: FirewallEntry[]) => entries.map(describeEntry).join(', ');

/** What ADD would install now is recorded for this attachment and present on the host. */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const prev = requirePrevResult(cmd, 'firewall');
  const expected = planEntries(conf, prev, hostFirewall(cmd.env));
  const fw = firewall(cmd);
  const unrecorded = fw.unrecorded(attachmentKey(cmd), expected);
  if (unrecorded.length) throw fail(`firewall entries not installed for this container: ${describe(unrecorded)}`);
  const missing = fw.missing(expected);
  if (missing.length) throw fail(`firewall entries missing from the host: ${describe(missing)}`);
  const broken = fw.brokenStructure(expected);
  if (broken.length) throw fail(`the ingress policy cannot work: ${broken.join('; ')}`);
}
