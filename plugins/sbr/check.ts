import { CniError, ErrorCode } from '../../lib/errors';
import { withLinkIn } from '../../lib/netlink';
import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';
import { attachmentKey, sbrState } from './records';
import { interfaceAddresses, missingFrom, noAddress } from './routing';

/** Fails (140) when a rule or table route ADD put in the container is gone (the reference checks nothing). */
export async function check(cmd: CmdArgs): Promise<void> {
  parseConfig(cmd);
  if (!interfaceAddresses(requirePrevResult(cmd, 'sbr'), cmd.ifname).length) throw noAddress(cmd.ifname);
  const state = sbrState(cmd);
  const record = state.withLock(() => state.read(attachmentKey(cmd)));
  if (!record)
    throw new CniError(
      ErrorCode.CheckFailed,
      `sbr has no record of ${cmd.containerId} (${cmd.ifname}) on network ${JSON.stringify(cmd.config.name)}: ADD did not run, or its state is gone`,
    );
  const missing = await withLinkIn(cmd.netns, cmd.ifname, (sock, link) => {
    if (!link) throw new CniError(ErrorCode.CheckFailed, `interface ${JSON.stringify(cmd.ifname)} not found in ${JSON.stringify(cmd.netns)}`);
    return missingFrom(sock, record);
  });
  if (missing.length) throw new CniError(ErrorCode.CheckFailed, `source-based routing of ${cmd.ifname} is incomplete: ${missing.join(', ')} missing`);
}
