import { createHash } from 'node:crypto';
import { type NftCommand, type SetElement, addTable, inTable, NftSet, nftFamily, safeName } from '../nft';

/** One masqueraded address: traffic from `ip` leaving `subnet` (and not going to `except`) is masqueraded. */
export interface MasqEntry {
  family: 4 | 6;
  ip: string;
  /** The container's subnet in network form, e.g. "10.88.0.0/16". */
  subnet: string;
  /** Destinations never masqueraded (the config's nonMasqueradeCIDRs of this family, network form, sorted); absent when none. */
  except?: string[];
}

export const mapName = (family: 4 | 6): string => `masq${family}`;

/**
 * One chain per subnet and exception list, shared by every container with both: its content depends
 * on nothing else. Without exceptions the name is the subnet's alone (as before exceptions existed).
 */
export const chainName = (entry: Pick<MasqEntry, 'family' | 'subnet' | 'except'>): string => {
  const base = `masq${entry.family}-${safeName(entry.subnet)}`;
  if (!entry.except?.length) return base;
  return `${base}-x${createHash('sha256').update(entry.except.join(',')).digest('hex').slice(0, 8)}`;
};

const multicast = (family: 4 | 6) => (family === 4 ? { addr: '224.0.0.0', len: 4 } : { addr: 'ff00::', len: 8 });

function daddrIn(family: 4 | 6, prefix: { addr: string; len: number }): NftCommand {
  return { match: { op: '==', left: { payload: { protocol: nftFamily(family), field: 'daddr' } }, right: { prefix } } };
}

/** `ip daddr { a/n, b/m }`: one lookup in an anonymous interval set, however many prefixes. */
function daddrInAny(family: 4 | 6, cidrs: string[]): NftCommand {
  const prefixes = cidrs.map((c) => {
    const [addr, len] = c.split('/');
    return { prefix: { addr, len: Number(len) } };
  });
  return { match: { op: '==', left: { payload: { protocol: nftFamily(family), field: 'daddr' } }, right: { set: prefixes } } };
}

/**
 * The fixed part: a postrouting chain at srcnat priority whose only rules are two verdict-map
 * lookups keyed on the source address, so per-packet cost does not depend on how many containers
 * there are; and the two maps. Rebuilt in every transaction (constant size) so it self-heals.
 */
export function baseCommands(): NftCommand[] {
  const chain = inTable({ name: 'postrouting' });
  return [
    addTable(),
    ...([4, 6] as const).map((f) => ({ add: { map: inTable({ name: mapName(f), type: f === 4 ? 'ipv4_addr' : 'ipv6_addr', map: 'verdict' }) } })),
    { add: { chain: { ...chain, type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } } },
    { flush: { chain } },
    ...([4, 6] as const).map((f) => ({
      add: { rule: inTable({ chain: 'postrouting', expr: [{ vmap: { key: { payload: { protocol: nftFamily(f), field: 'saddr' } }, data: `@${mapName(f)}` } }] }) },
    })),
  ];
}

export function subnetChainCommands(entry: MasqEntry): NftCommand[] {
  const name = chainName(entry);
  const [addr, len] = entry.subnet.split('/');
  const rule = (expr: NftCommand[]) => ({ add: { rule: inTable({ chain: name, expr }) } });
  return [
    { add: { chain: inTable({ name }) } },
    { flush: { chain: inTable({ name }) } },
    rule([daddrIn(entry.family, { addr, len: Number(len) }), { return: null }]),
    ...(entry.except?.length ? [rule([daddrInAny(entry.family, entry.except), { return: null }])] : []),
    rule([daddrIn(entry.family, multicast(entry.family)), { return: null }]),
    rule([{ masquerade: null }]),
  ];
}

/** The verdict map from a family's masqueraded source addresses to their subnets' chains. */
export const masqMapSet = (family: 4 | 6): NftSet => new NftSet({ family: 'inet', kind: 'map', name: mapName(family) });

/** The entry's element: its address jumps to its subnet's chain. */
export const masqElement = (e: MasqEntry): SetElement => masqMapSet(e.family).element([e.ip], { jump: chainName(e) });

/** Everything ADD applies, as one transaction. */
export function addTransaction(entries: MasqEntry[]): NftCommand[] {
  const subnets = new Map(entries.map((e) => [chainName(e), e]));
  return [...baseCommands(), ...[...subnets.values()].flatMap(subnetChainCommands), ...entries.map((e) => masqElement(e).addCommand())];
}
