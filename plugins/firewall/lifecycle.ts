import { CniError, ErrorCode } from '../../lib/errors';
import { assertNftUsable } from '../../lib/nft';
import type { CmdArgs } from '../../lib/skel';
import { removeInvalidAttachments } from '../../lib/state/collect-garbage';
import { firewall, hostFirewall } from './records';
import { parseConfig } from './config';
import { systemIptables } from './iptables';

/**
 * Ready when what the config needs answers: nftables for an ingress policy, iptables for
 * "backend": "iptables", firewalld on the system bus for "backend": "firewalld".
 */
export async function status(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  if (conf.ingressPolicy !== 'open') assertNftUsable();
  if (conf.backend === 'iptables' && systemIptables.save(4) === undefined) {
    throw new CniError(ErrorCode.PluginNotAvailable, '"backend" is "iptables", but iptables-save is not installed');
  }
  if (conf.backend === 'firewalld' && !hostFirewall(cmd.env).firewalldRunning()) {
    throw new CniError(ErrorCode.PluginNotAvailable, '"backend" is "firewalld", but firewalld is not running (not on the system bus)');
  }
}

/** Removes the entries of this network's attachments that are not in cni.dev/valid-attachments. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await removeInvalidAttachments([firewall(cmd)], conf.networkName, cmd.validAttachments, 'firewall entry');
}
