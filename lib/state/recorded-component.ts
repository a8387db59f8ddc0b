import type { AttachmentKey, StateEnv } from './attachment-state';
import type { OwnedEntries } from './owned-entries';

/** What the records say against what the kernel has, for `cni-ts doctor`. */
export interface RecordsAudit {
  attachments: number;
  entries: number;
  /** Recorded entries not (all) in the kernel: flushed away. */
  missing: number;
  /** What is wrong with the chains and rules the entries depend on. */
  broken: string[];
}

/** A kernel entry of the component that no record holds: left by a crash or by hand. */
export interface StrayEntry {
  /** Where it is, as nft names it, e.g. "inet cni_ts portmap4". */
  where: string;
  key: string;
  /** The command that removes it. */
  fix: string;
}

/** One line an operator's listing shows under the attachment's `shownAs` heading. */
export interface ShownEntry {
  key: AttachmentKey;
  text: string;
}

/**
 * A component of the suite that puts entries in the kernel and records them per attachment
 * (masquerade, MAC spoof check, port mappings, firewall). The operator tools iterate the list of
 * them (plugins/recorded-components.ts): reapply puts the entries back, doctor audits them, the
 * listing shows them.
 */
export interface RecordedComponent {
  /** How doctor names it. */
  name: string;
  /** Its key in cni-ts-reapply's report. */
  reapplyKey: string;
  /** The attachment-view field the listing shows its entries under; none: not shown. */
  shownAs?: 'masquerade' | 'ports' | 'firewall';
  open(ctx: StateEnv): ComponentRecords;
}

/** A component's records and entries, without the entries' type. */
export interface ComponentRecords {
  /** Installs every recorded entry again; returns how many. */
  reapply(): number;
  audit(): RecordsAudit;
  strays(): StrayEntry[];
  shown(): ShownEntry[];
}

/** How a component's entries are read, given its typed records. */
export interface ComponentDefinition<E> {
  name: string;
  reapplyKey: string;
  open(ctx: StateEnv): OwnedEntries<E>;
  strays?(owned: OwnedEntries<E>): StrayEntry[];
  shown?: { as: NonNullable<RecordedComponent['shownAs']>; text(owned: OwnedEntries<E>, key: AttachmentKey, entry: E): string | undefined };
}

/** A RecordedComponent from its typed definition: the entry type stays inside. */
export function recordedComponent<E>(def: ComponentDefinition<E>): RecordedComponent {
  return {
    name: def.name,
    reapplyKey: def.reapplyKey,
    shownAs: def.shown?.as,
    open(ctx) {
      const owned = def.open(ctx);
      return {
        reapply: () => owned.reapply(),
        audit: () => {
          const records = owned.records();
          const all = records.flatMap((r) => r.data);
          return { attachments: records.length, entries: all.length, missing: owned.missing(all).length, broken: owned.brokenStructure(all) };
        },
        strays: () => def.strays?.(owned) ?? [],
        shown: () =>
          def.shown
            ? owned.records().flatMap(({ key, data }) =>
                data.flatMap((entry) => {
                  const text = def.shown!.text(owned, key, entry);
                  return text === undefined ? [] : [{ key, text }];
                }),
              )
            : [],
      };
    },
  };
}
