import { CniError, ErrorCode, NftError } from '../errors';
import { formatIP, formatPrefix, networkAddress, type Prefix } from '../ip';
import { deleteElements, inTable, openNft, OwnedElements, presentElements, strayElements, type ElementSpec, type NftRunner } from '../nft';
import { AttachmentState, stateRoot, type StateEnv } from '../state/attachment-state';
import { recordedComponent } from '../state/recorded-component';
import type { IPConfig } from '../types';
import { addressingOf, type Addressing } from './addressing';
import { addTransaction, chainName, masqElement, masqMapSet, type MasqEntry } from './masquerade-rules';

/** The subnets' chains the entries jump to, each once. */
const subnetChains = (entries: MasqEntry[]): string[] => [...new Set(entries.map(chainName))];

/**
 * The ADD transaction. An address whose element is still there jumping to another chain (a DEL was
 * lost and the subnet or nonMasqueradeCIDRs changed since) makes nftables refuse it ("File
 * exists"): those elements go, and the transaction is sent again.
 */
function install(nft: NftRunner, entries: MasqEntry[]): void {
  try {
    nft.apply(addTransaction(entries));
  } catch (err) {
    if (!(err instanceof NftError)) throw err;
    const stale = presentElements(nft, entries.map(masqElement));
    if (!stale.length) throw err;
    deleteElements(nft, stale);
    nft.apply(addTransaction(entries));
  }
}

/** One map element per address; the address is what a later container may get again. */
export const masqueradeSpec: ElementSpec<MasqEntry> = {
  resource: (e) => `masq${e.family}/${e.ip}`,
  elements: (e) => [masqElement(e)],
  install: (nft, entries) => install(nft, entries),
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

export const masqueradeComponent = recordedComponent<MasqEntry>({
  name: 'masquerade',
  reapplyKey: 'bridge ipMasq',
  open: masquerade,
  strays: (owned) => strayElements(openNft(), owned, masqueradeSpec, [masqMapSet(4), masqMapSet(6)]),
  shown: { as: 'masquerade', text: (_owned, _key, entry) => entry.ip },
});

/**
 * The masquerade entries of a container's addresses; `except` (the config's nonMasqueradeCIDRs)
 * gives each the destinations of its family that keep the container's address.
 */
export function masqEntries(addressing: Addressing[], except: Prefix[] = []): MasqEntry[] {
  return addressing.map((a) => {
    const cidrs = [...new Set(except.filter((p) => p.ip.family === a.ip.family).map((p) => formatPrefix({ ip: networkAddress(p), length: p.length })))].sort();
    return { family: a.ip.family, ip: formatIP(a.ip), subnet: formatPrefix(a.subnet), ...(cidrs.length ? { except: cidrs } : {}) };
  });
}

/** CHECK: the attachment's elements are in the maps and the chains they jump to work. */
export function checkMasquerade(cmd: StateEnv, ips: IPConfig[], except: Prefix[] = []): void {
  const masq = masquerade(cmd);
  const expected = masqEntries(addressingOf(ips), except);
  const missing = masq.missing(expected);
  if (missing.length) throw new CniError(ErrorCode.CheckFailed, `masquerade entries missing from nftables table inet cni_ts: ${missing.map((m) => m.ip).join(', ')}`);
  const broken = masq.brokenStructure(expected);
  if (broken.length) throw new CniError(ErrorCode.CheckFailed, `masquerading cannot work: ${broken.join('; ')}`);
}
