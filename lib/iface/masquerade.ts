import { inTable, OwnedElements, type ElementSpec, type NftRunner, type SetElement } from '../../lib/nft';
import type { AttachmentState } from '../../lib/state/attachment-state';
import { addTransaction, chainName, mapName, type MasqEntry } from './masquerade-rules';

/** The subnets' chains the entries jump to, each once. */
const subnetChains = (entries: MasqEntry[]): string[] => [...new Set(entries.map(chainName))];

/** One map element per address; the address is what a later container may get again. */
export const masqueradeSpec: ElementSpec<MasqEntry> = {
  resource: (e) => `masq${e.family}/${e.ip}`,
  elements: (e): SetElement[] => [{ family: 'inet', kind: 'map', set: mapName(e.family), elem: e.ip, text: e.ip }],
  install: (nft, entries) => nft.apply(addTransaction(entries)),
  // every address of a subnet jumps to the subnet's chain: the chain goes with the last of them
  releaseWith: (entries) => subnetChains(entries).map((name) => ({ delete: { chain: inTable({ name }) } })),
  structure: (entries) => ({
    commands: addTransaction(entries),
    chains: [{ family: 'inet', name: 'postrouting' }, ...subnetChains(entries).map((name) => ({ family: 'inet' as const, name }))],
  }),
};

export type Masquerade = OwnedElements<MasqEntry>;

export const newMasquerade = (nft: NftRunner, state: AttachmentState<MasqEntry[]>): Masquerade => new OwnedElements(nft, state, masqueradeSpec);
