import { CniError, ErrorCode } from '../../lib/errors';
import type { StateEnv } from '../../lib/state/attachment-state';

/**
 * cni-ts-reapply: puts back every masquerade, MAC spoof check, port mapping and firewall entry
 * the suite's records say should exist (after `nft flush ruleset`, an nftables.service restart or
 * a firewalld reload), without re-running ADD. Idempotent; prints what it installed per component.
 */
export async function main(): Promise<number> {
  const ctx: StateEnv = { env: process.env };
  const installed: Record<string, number> = {};
  const failures: string[] = [];
  const { RECORDED_COMPONENTS } = await import('../../plugins/recorded-components');
  for (const component of RECORDED_COMPONENTS) {
    try {
      installed[component.reapplyKey] = component.open(ctx).reapply();
    } catch (err) {
      failures.push(`${component.reapplyKey}: ${(err as Error).message}`);
    }
  }
  if (failures.length) {
    const error = new CniError(ErrorCode.NftablesFailure, `could not re-apply everything: ${failures.join('; ')}`);
    process.stdout.write(JSON.stringify({ cniVersion: '1.1.0', code: error.code, msg: error.message, details: JSON.stringify({ installed }) }, null, 2) + '\n');
    return 1;
  }
  process.stdout.write(JSON.stringify({ installed }, null, 2) + '\n');
  return 0;
}
