import type { Family } from '../../lib/ip';
import { elementEntries, type NftRunner } from '../../lib/nft';
import type { EntrySpec } from '../../lib/state/owned-entries';
import { resourceOf, type AllowEntry, type FirewallEntry, type IsolationEntry } from './entries';
import { installScript, missingRules, parseFilterTable, uninstallScript, type FilterTable } from './iptables-rules';
import type { Iptables } from './iptables';
import { ISOLATION_CHAIN, isolationElements, isolationTransaction } from './isolation';

const isAllow = (e: FirewallEntry): e is AllowEntry => e.kind === 'allow';
const isIsolation = (e: FirewallEntry): e is IsolationEntry => e.kind !== 'allow';

/** Allow rules go to iptables (one save and at most one restore per family), isolation to nftables. */
export function firewallEntries(nft: NftRunner, iptables: Iptables): EntrySpec<FirewallEntry> {
  const isolation = elementEntries<IsolationEntry>(nft, {
    resource: resourceOf,
    elements: isolationElements,
    install: (runner, entries) => runner.apply(isolationTransaction(entries)),
    structure: () => ({ commands: isolationTransaction([]), chains: [{ family: 'inet', name: ISOLATION_CHAIN }] }),
  });
  const filterTable = (family: Family): FilterTable | undefined => parseFilterTable(iptables.save(family) ?? '');
  const byFamily = (entries: FirewallEntry[]) =>
    ([4, 6] as const).map((family) => [family, entries.filter(isAllow).filter((e) => e.family === family)] as const).filter(([, list]) => list.length);

  return {
    resource: resourceOf,
    shared: isIsolation,
    install(entries) {
      for (const [family, allow] of byFamily(entries)) {
        const script = installScript(filterTable(family), allow);
        if (script) iptables.restore(family, script);
      }
      const isolate = entries.filter(isIsolation);
      if (isolate.length) isolation.install(isolate);
    },
    uninstall(entries) {
      for (const [family, allow] of byFamily(entries)) {
        const script = uninstallScript(
          filterTable(family),
          allow.map((e) => e.address),
        );
        if (script) iptables.restore(family, script);
      }
      isolation.uninstall(entries.filter(isIsolation));
    },
    brokenStructure: (entries) => {
      const isolate = entries.filter(isIsolation);
      return isolate.length ? isolation.brokenStructure!(isolate) : [];
    },
    missing(entries) {
      const missing: FirewallEntry[] = [];
      for (const [family, allow] of byFamily(entries)) {
        const table = filterTable(family);
        missing.push(...allow.filter((e) => missingRules(table, e).length));
      }
      const isolate = entries.filter(isIsolation);
      return [...missing, ...(isolate.length ? isolation.missing(isolate) : [])];
    },
  };
}
