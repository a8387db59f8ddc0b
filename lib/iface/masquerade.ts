import { CniError, ErrorCode } from '../errors';
import { formatIP, formatPrefix } from '../ip';
import { inTable, openNft, OwnedElements, type ElementSpec, type NftRunner, type SetElement } from '../nft';
import { AttachmentState, stateRoot, type StateEnv } from '../state/attachment-state';
import type { IPConfig } from '../types';
import { addressingOf, type Addressing } from './addressing';
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

/** The suite's masquerade (one per host, shared by every interface plugin with ipMasq), with its records. */
export const masquerade = (cmd: StateEnv) => newMasquerade(openNft(), new AttachmentState<MasqEntry[]>(stateRoot(cmd.env), 'ipmasq'));

export function masqEntries(addressing: Addressing[]): MasqEntry[] {
  return addressing.map((a) => ({ family: a.ip.family, ip: formatIP(a.ip), subnet: formatPrefix(a.subnet) }));
}

/** CHECK: the attachment's elements are in the maps and the chains they jump to work. */
export function checkMasquerade(cmd: StateEnv, ips: IPConfig[]): void {
  const masq = masquerade(cmd);
  const expected = masqEntries(addressingOf(ips));
  const missing = masq.missing(expected);
  if (missing.length) throw new CniError(ErrorCode.CheckFailed, `masquerade entries missing from nftables table inet cni_ts: ${missing.map((m) => m.ip).join(', ')}`);
  const broken = masq.brokenStructure(expected);
  if (broken.length) throw new CniError(ErrorCode.CheckFailed, `masquerading cannot work: ${broken.join('; ')}`);
}
