import { CniError, ErrorCode, NftError } from '../../lib/errors';
import { openNft, TABLE } from '../../lib/nft';
import type { CmdArgs } from '../../lib/skel';
import { sameAttachment } from '../../lib/state/attachment-state';
import { portMaps } from './attachment';
import { parseConfig } from './config';

/** Ready when nftables answers (a missing table is fine: ADD creates it). */
export async function status(cmd: CmdArgs): Promise<void> {
  parseConfig(cmd);
  try {
    openNft().list(`list table ${TABLE.family} ${TABLE.name}`);
  } catch (err) {
    if (err instanceof NftError && /No such file or directory/.test(err.message)) return;
    throw new CniError(ErrorCode.PluginNotAvailable, `nftables is not usable: ${(err as Error).message}`);
  }
}

/** Removes the mappings of this network's attachments that are not in cni.dev/valid-attachments. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const valid = (cmd.validAttachments ?? []).map((v) => ({ network: conf.networkName, containerId: v.containerID, ifname: v.ifname }));
  const maps = portMaps(cmd);
  const failures: string[] = [];
  for (const key of maps.attachments(conf.networkName).filter((k) => !valid.some((v) => sameAttachment(v, k)))) {
    try {
      maps.remove(key);
    } catch (err) {
      failures.push(`${key.containerId}/${key.ifname}: ${(err as Error).message}`);
    }
  }
  if (failures.length) throw new CniError(ErrorCode.NftablesFailure, `GC could not remove every stale mapping: ${failures.join('; ')}`);
}
