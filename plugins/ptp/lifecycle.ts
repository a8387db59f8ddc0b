import { collectGarbage } from '../../lib/iface/gc';
import { masquerade } from '../../lib/iface/masquerade';
import { vethRecords } from '../../lib/iface/veth-records';
import { delegate } from '../../lib/invoke/delegate';
import type { CmdArgs } from '../../lib/skel';
import { ptpState } from './records';
import { parseConfig } from './config';

/** Ready when the IPAM plugin says it is (ptp itself needs nothing shared on the host). */
export async function status(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await delegate(conf.ipamType, 'STATUS', cmd);
}

/** Removes the masquerade entries and host veths of attachments no longer valid, then lets IPAM do the same. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await collectGarbage(cmd, conf.networkName, [masquerade(cmd), vethRecords(ptpState(cmd))], conf.ipamType);
}
