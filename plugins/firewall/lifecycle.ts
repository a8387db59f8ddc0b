import { CniError, ErrorCode } from '../../lib/errors';
import { assertNftUsable } from '../../lib/nft';
import type { CmdArgs } from '../../lib/skel';
import { removeInvalidAttachments } from '../../lib/state/collect-garbage';
import { firewall } from './records';
import { parseConfig } from './config';
import { systemIptables } from './iptables';

/** Ready when what the config needs answers: nftables for an ingress policy, iptables for "backend": "iptables". */
export async function status(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  if (conf.ingressPolicy !== 'open') assertNftUsable();
  if (conf.iptablesAlways && systemIptables.save(4) === undefined) {
    throw new CniError(ErrorCode.PluginNotAvailable, '"backend" is "iptables", but iptables-save is not installed');
  }
}

/** Removes the entries of this network's attachments that are not in cni.dev/valid-attachments. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await removeInvalidAttachments([firewall(cmd)], conf.networkName, cmd.validAttachments, 'firewall entry');
}
