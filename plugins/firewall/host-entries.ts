import type { Family } from '../../lib/ip';
import { elementEntries, type NftRunner } from '../../lib/nft';
import type { EntrySpec } from '../../lib/state/owned-entries';
import { type StepFailure, throwFailures } from '../../lib/best-effort';
import { CniError, ErrorCode } from '../../lib/errors';
import { toCniError } from '../../lib/skel/translate';
import { resourceOf, type AllowEntry, type FirewallEntry, type IsolationEntry, type ZoneEntry } from './entries';
import type { Firewalld } from './firewalld';
import { installScript, missingRules, parseFilterTable, uninstallScript, type FilterTable } from './iptables-rules';
import type { Iptables } from './iptables';
import { ISOLATION_CHAIN, isolationElements, isolationTransaction } from './isolation';

const isAllow = (e: FirewallEntry): e is AllowEntry => e.kind === 'allow';
const isZone = (e: FirewallEntry): e is ZoneEntry => e.kind === 'zone';
const isIsolation = (e: FirewallEntry): e is IsolationEntry => e.kind === 'isolate' || e.kind === 'icc';

/**
 * Allow rules go to iptables (one save and at most one restore per family), zone sources to
 * firewalld (one bus connection), isolation to nftables.
 */
export function firewallEntries(nft: NftRunner, iptables: Iptables, firewalld: Firewalld): EntrySpec<FirewallEntry> {
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
      // last: with firewalld stopped, a re-apply still puts the rest back before failing here
      installZones(firewalld, entries.filter(isZone));
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
      uninstallZones(firewalld, entries.filter(isZone));
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
      return [...missing, ...missingZones(firewalld, entries.filter(isZone)), ...(isolate.length ? isolation.missing(isolate) : [])];
    },
  };
}

function installZones(firewalld: Firewalld, entries: ZoneEntry[]): void {
  if (!entries.length) return;
  firewalld.use((zones) => {
    if (!zones) {
      throw new CniError(ErrorCode.PluginNotAvailable, `firewalld is not running (not on the system bus): cannot add ${entries.map((e) => e.source).join(', ')} to its zone`);
    }
    // every source is tried (a re-apply after a reload puts back all it can), then the failures are reported
    const failures: StepFailure[] = [];
    for (const e of entries) {
      try {
        zones.addSource(e.zone, e.source);
      } catch (err) {
        failures.push({ what: `source ${e.source} into zone ${JSON.stringify(e.zone)}`, error: toCniError(err).error });
      }
    }
    throwFailures('firewalld', failures);
  });
}

/** A stopped firewalld took its runtime sources with it: nothing to remove. */
function uninstallZones(firewalld: Firewalld, entries: ZoneEntry[]): void {
  if (!entries.length) return;
  firewalld.use((zones) => {
    for (const e of entries) zones?.removeSource(e.zone, e.source);
  });
}

function missingZones(firewalld: Firewalld, entries: ZoneEntry[]): ZoneEntry[] {
  if (!entries.length) return [];
  return firewalld.use((zones) => (zones ? entries.filter((e) => zones.zoneOf(e.source) !== e.zone) : entries));
}
