import { CniError, ErrorCode } from '../errors';
import { delegate } from '../invoke/delegate';
import { formatIP } from '../ip';
import type { CmdArgs } from '../skel';
import type { IPConfig, Result } from '../types';
import type { UndoStack } from '../undo';
import type { Addressing } from './addressing';

/**
 * IPAM ADD through the config's IPAM plugin (none: undefined), its DEL pushed on the undo stack so a
 * later failure releases the reservation; a result without addresses is refused.
 */
export async function ipamAdd(type: string | undefined, cmd: CmdArgs, undo: UndoStack): Promise<Result | undefined> {
  if (!type) return undefined;
  const ipam = await delegate(type, 'ADD', cmd);
  undo.push(`IPAM ${type} reservation`, () => delegate(type, 'DEL', { ...cmd, command: 'DEL' }));
  if (!ipam?.ips?.length) throw new CniError(ErrorCode.DelegateFailure, `IPAM plugin ${JSON.stringify(type)} returned no IP configuration`);
  return ipam;
}

/** The result's ips: IPAM's, each on the container interface, with the gateway it was configured with. */
export function resultIPs(ipam: Result | undefined, addressing: Addressing[], containerInterface: number): IPConfig[] {
  return (ipam?.ips ?? []).map((ip, i) => ({ ...ip, gateway: ip.gateway ?? formatIP(addressing[i].gateway), interface: containerInterface }));
}
