import { NftSet, OwnedElements, type ElementSpec, type NftCommand, type NftRunner, type SetElement } from '../../lib/nft';
import { TABLE } from '../../lib/nft/table';
import type { AttachmentState } from '../../lib/state/attachment-state';

/** The host veth of an attachment and the only source MAC allowed to enter the bridge through it. */
export interface SpoofEntry {
  veth: string;
  mac: string;
}

const table = { family: 'bridge', table: TABLE.name } as const;

/** The host veths whose frames are checked. */
export const SPOOFCHECKED = new NftSet({ family: 'bridge', kind: 'set', name: 'spoofchecked' });
const ALLOWED_MACS = new NftSet({ family: 'bridge', kind: 'set', name: 'allowed_macs' });

/**
 * macspoofchk in the suite's bridge-family table: one rule for every port, two set lookups per
 * frame (is the port checked? is port . source MAC allowed?), one pair of elements per container.
 */
export function spoofcheckTransaction(entry: SpoofEntry): NftCommand[] {
  const chain = { ...table, name: 'prerouting' };
  return [
    { add: { table: { family: 'bridge', name: TABLE.name } } },
    { add: { set: { ...table, name: SPOOFCHECKED.name, type: 'ifname' } } },
    { add: { set: { ...table, name: ALLOWED_MACS.name, type: ['ifname', 'ether_addr'] } } },
    { add: { chain: { ...chain, type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' } } },
    { flush: { chain } },
    {
      add: {
        rule: {
          ...table,
          chain: 'prerouting',
          expr: [
            { match: { op: '==', left: { meta: { key: 'iifname' } }, right: `@${SPOOFCHECKED.name}` } },
            { match: { op: '!=', left: { concat: [{ meta: { key: 'iifname' } }, { payload: { protocol: 'ether', field: 'saddr' } }] }, right: `@${ALLOWED_MACS.name}` } },
            { drop: null },
          ],
        },
      },
    },
    ...elementsOf(entry).map((e) => e.addCommand()),
  ];
}

function elementsOf(entry: SpoofEntry): SetElement[] {
  return [SPOOFCHECKED.element([entry.veth]), ALLOWED_MACS.element([entry.veth, entry.mac])];
}

/** Host veth names are unique per attachment, so each attachment owns its pair of elements outright. */
export const spoofCheckSpec: ElementSpec<SpoofEntry> = {
  resource: (e) => `spoofcheck/${e.veth}`,
  elements: elementsOf,
  install: (nft, entries) => nft.apply(entries.flatMap(spoofcheckTransaction)),
  structure: (entries) => ({ commands: spoofcheckTransaction(entries[0]), chains: [{ family: 'bridge', name: 'prerouting' }] }),
};

export type SpoofCheck = OwnedElements<SpoofEntry>;

export const newSpoofCheck = (nft: NftRunner, state: AttachmentState<SpoofEntry[]>): SpoofCheck => new OwnedElements(nft, state, spoofCheckSpec);
