import { checkCreatedLink } from '../../lib/iface/link-plugin';
import type { CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';

/** The reference's CHECK (a dummy, up, with prevResult's MAC and addresses), and prevResult's routes. */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await checkCreatedLink(cmd, { ipamType: conf.ipamType, kind: 'dummy', inspect: (link) => (link.up ? undefined : 'is down') });
}
