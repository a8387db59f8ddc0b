import { assertNftUsable } from '../../lib/nft';
import type { CmdArgs } from '../../lib/skel';
import { removeInvalidAttachments } from '../../lib/state/collect-garbage';
import { portMaps } from './records';
import { parseConfig } from './config';

/** Ready when nftables answers. */
export async function status(cmd: CmdArgs): Promise<void> {
  parseConfig(cmd);
  assertNftUsable();
}

/** Removes the mappings of this network's attachments that are not in cni.dev/valid-attachments. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await removeInvalidAttachments([portMaps(cmd)], conf.networkName, cmd.validAttachments, 'mapping');
}
