import { log } from '../../lib/log';
import { openNft } from '../../lib/nft';
import { AttachmentState, stateRoot, type StateEnv } from '../../lib/state/attachment-state';
import { OwnedEntries } from '../../lib/state/owned-entries';
import { recordedComponent } from '../../lib/state/recorded-component';
import { describeEntry, type FirewallEntry, type HostFirewall } from './entries';
import { systemFirewalld } from './firewalld';
import { firewallEntries } from './host-entries';
import { systemIptables, type Iptables } from './iptables';
import { iptablesFilter, iptablesVariant } from './iptables-filter';

export { attachmentKey } from '../../lib/state/attachment-state';

export type Firewall = OwnedEntries<FirewallEntry>;

export const firewall = (cmd: StateEnv, iptables: Iptables = systemIptables): Firewall =>
  new OwnedEntries(new AttachmentState<FirewallEntry[]>(stateRoot(cmd.env), 'firewall'), firewallEntries(openNft(), iptables, systemFirewalld(cmd.env)));

export const firewallComponent = recordedComponent<FirewallEntry>({
  name: 'firewall',
  reapplyKey: 'firewall',
  open: (ctx) => firewall(ctx),
  shown: { as: 'firewall', text: (_owned, _key, entry) => describeEntry(entry) },
});

/** As the reference: a bus that cannot be reached or answers with an error means no firewalld. */
function firewalldAnswers(env: Readonly<Record<string, string | undefined>>): boolean {
  try {
    return systemFirewalld(env).use((zones) => zones !== undefined);
  } catch (err) {
    log.warn('the system bus did not say whether firewalld runs: taking it as not running', { error: (err as Error).message });
    return false;
  }
}

/**
 * Whether firewalld runs and the host's iptables needs FORWARD rules, each asked at most once
 * and only when needed: with an explicit backend, or an attachment without addresses, nothing is looked up.
 */
export function hostFirewall(env: Readonly<Record<string, string | undefined>>): HostFirewall {
  let filter: Pick<HostFirewall, 'iptablesForward'> | undefined;
  let firewalld: boolean | undefined;
  return {
    iptablesForward: (family) => (filter ??= iptablesFilter(iptablesVariant(env.PATH), openNft())).iptablesForward(family),
    firewalldRunning: () => (firewalld ??= firewalldAnswers(env)),
  };
}
