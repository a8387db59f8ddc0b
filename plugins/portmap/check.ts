import { CniError, ErrorCode } from '../../lib/errors';
import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import { attachmentKey, portMaps } from './records';
import { parseConfig } from './config';
import { containerAddresses, planEntries, type PortmapEntry } from './entries';
import { elementOf } from './rules';

const fail = (what: string) => new CniError(ErrorCode.CheckFailed, what);

/** The mappings ADD would install for this config and prevResult are recorded and in the ruleset. */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const prev = requirePrevResult(cmd, 'portmap');
  if (!conf.mappings.length) return;
  const expected = planEntries(conf, containerAddresses(prev, cmd.ifname), cmd.ifname);
  const maps = portMaps(cmd);
  const unrecorded = maps.unrecorded(attachmentKey(cmd), expected);
  if (unrecorded.length) throw fail(`port mappings not installed for this container: ${describe(unrecorded)}`);
  const missing = maps.missing(expected);
  if (missing.length) throw fail(`port mapping entries missing from nftables table inet cni_ts: ${describe(missing)}`);
  const broken = maps.brokenStructure(expected);
  if (broken.length) throw fail(`port mappings cannot work: ${broken.join('; ')}`);
}

const describe = (entries: PortmapEntry[]) => entries.map((e) => elementOf(e).describe()).join(', ');
