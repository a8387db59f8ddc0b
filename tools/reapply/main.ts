import { CniError, ErrorCode } from '../../lib/errors';
import type { StateEnv } from '../../lib/state/attachment-state';

/** A component whose entries live in the kernel and whose records live in the suite's state. */
interface Reapplicable {
  name: string;
  open(ctx: StateEnv): { reapply(): number };
}

const components = async (): Promise<Reapplicable[]> => {
  const masq = await import('../../lib/iface/masquerade');
  const bridge = await import('../../plugins/bridge/attachment');
  const portmap = await import('../../plugins/portmap/attachment');
  const firewall = await import('../../plugins/firewall/attachment');
  return [
    { name: 'bridge ipMasq', open: masq.masquerade },
    { name: 'bridge macspoofchk', open: bridge.spoofCheck },
    { name: 'portmap', open: portmap.portMaps },
    { name: 'firewall', open: (ctx) => firewall.firewall(ctx) },
  ];
};

/**
 * cni-ts-reapply: puts back every masquerade, MAC spoof check, port mapping and firewall entry
 * the suite's records say should exist (after `nft flush ruleset`, an nftables.service restart or
 * a firewalld reload), without re-running ADD. Idempotent; prints what it installed per component.
 */
export async function main(): Promise<number> {
  const ctx: StateEnv = { env: process.env };
  const installed: Record<string, number> = {};
  const failures: string[] = [];
  for (const component of await components()) {
    try {
      installed[component.name] = component.open(ctx).reapply();
    } catch (err) {
      failures.push(`${component.name}: ${(err as Error).message}`);
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
