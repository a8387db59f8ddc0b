import { openNft } from '../../lib/nft';
import { AttachmentState, stateRoot, type StateEnv } from '../../lib/state/attachment-state';
import { OwnedEntries } from '../../lib/state/owned-entries';
import type { FirewallEntry, HostFirewall } from './entries';
import { firewallEntries } from './host-entries';
import { systemIptables, type Iptables } from './iptables';
import { parseFilterTable } from './iptables-rules';

export { attachmentKey } from '../../lib/state/attachment-state';

export type Firewall = OwnedEntries<FirewallEntry>;

export const firewall = (cmd: StateEnv, iptables: Iptables = systemIptables): Firewall =>
  new OwnedEntries(new AttachmentState<FirewallEntry[]>(stateRoot(cmd.env), 'firewall'), firewallEntries(openNft(), iptables));

/** Reads iptables-save at most once per family, and only when asked. */
export function hostFirewall(iptables: Iptables = systemIptables): HostFirewall {
  const known = new Map<number, boolean>();
  return {
    iptablesForward(family) {
      if (!known.has(family)) known.set(family, parseFilterTable(iptables.save(family) ?? '')?.chains.has('FORWARD') ?? false);
      return known.get(family)!;
    },
  };
}
