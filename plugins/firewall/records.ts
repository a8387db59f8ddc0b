import { openNft } from '../../lib/nft';
import { AttachmentState, stateRoot, type StateEnv } from '../../lib/state/attachment-state';
import { OwnedEntries } from '../../lib/state/owned-entries';
import { recordedComponent } from '../../lib/state/recorded-component';
import { describeEntry, type FirewallEntry, type HostFirewall } from './entries';
import { firewallEntries } from './host-entries';
import { systemIptables, type Iptables } from './iptables';
import { iptablesFilter, iptablesVariant } from './iptables-filter';

export { attachmentKey } from '../../lib/state/attachment-state';

export type Firewall = OwnedEntries<FirewallEntry>;

export const firewall = (cmd: StateEnv, iptables: Iptables = systemIptables): Firewall =>
  new OwnedEntries(new AttachmentState<FirewallEntry[]>(stateRoot(cmd.env), 'firewall'), firewallEntries(openNft(), iptables));

export const firewallComponent = recordedComponent<FirewallEntry>({
  name: 'firewall',
  reapplyKey: 'firewall',
  open: (ctx) => firewall(ctx),
  shown: { as: 'firewall', text: (_owned, _key, entry) => describeEntry(entry) },
});

/**
 * Whether the host's iptables needs FORWARD rules, asked at most once per family and only when
 * needed: with `backend: "iptables"`, or an attachment without addresses, nothing is looked up.
 */
export function hostFirewall(env: Readonly<Record<string, string | undefined>>): HostFirewall {
  let filter: HostFirewall | undefined;
  return { iptablesForward: (family) => (filter ??= iptablesFilter(iptablesVariant(env.PATH), openNft())).iptablesForward(family) };
}
