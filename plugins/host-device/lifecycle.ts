import { collectGarbage } from '../../lib/iface/gc';
import { delegate } from '../../lib/invoke/delegate';
import type { CmdArgs } from '../../lib/skel';
import type { StateEnv } from '../../lib/state/attachment-state';
import type { CollectableComponent } from '../../lib/state/collect-garbage';
import { hostDeviceState } from './records';
import { parseConfig } from './config';
import { giveBack } from './restore';

/** Ready when the IPAM plugin says it is, as the reference (the device may well be in a container already). */
export async function status(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  if (conf.ipamType) await delegate(conf.ipamType, 'STATUS', cmd);
}

/** Gives the devices of attachments no longer valid back to the host (as their DEL would), then lets IPAM collect. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await collectGarbage(cmd, conf.networkName, [hostDeviceRecords(cmd)], conf.ipamType, 'host device');
}

function hostDeviceRecords(cmd: StateEnv): CollectableComponent {
  const state = hostDeviceState(cmd);
  return {
    attachments: (network) => state.withLock(() => state.list(network).map((r) => r.key)),
    collect: (key) => giveBack(cmd, key, ''),
  };
}
