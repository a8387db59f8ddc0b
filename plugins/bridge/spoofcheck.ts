import { OwnedElements, type ElementSpec, type NftCommand, type NftRunner, type SetElement } from '../../lib/nft';
import { TABLE } from '../../lib/nft/table';
import type { AttachmentState } from '../../lib/state/attachment-state';

/** The host veth of an attachment and the only source MAC allowed to enter the bridge through it. */
export interface SpoofEntry {
  veth: string;
  mac: string;
}

const table = { family: 'bridge', table: TABLE.name } as const;

/**
 * macspoofchk in the suite's bridge-family table: one rule for every port, two set lookups per
 * frame (is the port checked? is port . source MAC allowed?), one pair of elements per container.
 */
export function spoofcheckTransaction(entry: SpoofEntry): NftCommand[] {
  const chain = { ...table, name: 'prerouting' };
  return [
    { add: { table: { family: 'bridge', name: TABLE.name } } },
    { add: { set: { ...table, name: 'spoofchecked', type: 'ifname' } } },
    { add: { set: { ...table, name: 'allowed_macs', type: ['ifname', 'ether_addr'] } } },
    { add: { chain: { ...chain, type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' } } },
    { flush: { chain } },
    {
      add: {
        rule: {
          ...table,
          chain: 'prerouting',
          expr: [
            { match: { op: '==', left: { meta: { key: 'iifname' } }, right: '@spoofchecked' } },
            { match: { op: '!=', left: { concat: [{ meta: { key: 'iifname' } }, { payload: { protocol: 'ether', field: 'saddr' } }] }, right: '@allowed_macs' } },
            { drop: null },
          ],
        },
      },
    },
    ...elementsOf(entry).map((e) => ({ add: { element: { ...table, name: e.set, elem: [e.elem] } } })),
  ];
}

function elementsOf(entry: SpoofEntry): SetElement[] {
  return [
    { family: 'bridge', kind: 'set', set: 'spoofchecked', elem: entry.veth, text: entry.veth },
    { family: 'bridge', kind: 'set', set: 'allowed_macs', elem: { concat: [entry.veth, entry.mac] }, text: `${entry.veth} . ${entry.mac}` },
  ];
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
