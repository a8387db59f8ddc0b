import { CniError, ErrorCode } from '../../lib/errors';
import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import { attachmentKey, firewall, hostFirewall } from './records';
import { parseConfig } from './config';
import { describeEntry, planEntries, resourceOf, type FirewallEntry } from './entries';

const fail = (what: string) => new CniError(ErrorCode.CheckFailed, what);
const describe = (entries: FirewallEntry[]) => entries.map(describeEntry).join(', ');

/**
 * What ADD would install now is recorded for this attachment, and that and what its record holds
 * (e.g. zone sources of a firewalld that has stopped since) are present on the host.
 */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const prev = requirePrevResult(cmd, 'firewall');
  const expected = planEntries(conf, prev, hostFirewall(cmd.env));
  const fw = firewall(cmd);
  const key = attachmentKey(cmd);
  const unrecorded = fw.unrecorded(key, expected);
  if (unrecorded.length) throw fail(`firewall entries not installed for this container: ${describe(unrecorded)}`);
  const planned = new Set(expected.map(resourceOf));
  const missing = fw.missing([...expected, ...(fw.recorded(key) ?? []).filter((e) => !planned.has(resourceOf(e)))]);
  if (missing.length) throw fail(`firewall entries missing from the host: ${describe(missing)}`);
  const broken = fw.brokenStructure(expected);
  if (broken.length) throw fail(`the ingress policy cannot work: ${broken.join('; ')}`);
}
