import { addTableText, nftFamily, NftSet, TABLE, type NftCommand, type SetElement } from '../../lib/nft';
import { conditionsId } from './conditions';
import type { Family } from '../../lib/ip';
import type { DnatEntry, PortmapEntry } from './entries';

/**
 * The portmap part of the suite's table. Every packet to a local address takes at most two map
 * lookups per family (host address + protocol + port, then protocol + port), and every DNATed
 * connection one set lookup to decide on masquerading, whatever the number of mappings:
 *
 *   portmap_prerouting / portmap_output  nat, priority -100 (dstnat): fib daddr type local jump portmap_dnat
 *   portmap_dnat       ip daddr @portmap4_exclude return   (e.g. kube-proxy IPVS ClusterIPs, which are local)
 *                      dnat ip to ip daddr . meta l4proto . th dport map @portmap4_hostip
 *                      dnat ip to meta l4proto . th dport map @portmap4          (then the same for ip6)
 *   portmap_postrouting  nat, priority 100 (srcnat): ct status dnat ip daddr . ip saddr @portmap4_masq masquerade
 *   localnet_guard     filter, priority -300 (raw): iifname != "lo" ip daddr 127.0.0.0/8 drop  (CVE-2020-8558)
 *
 * Written as nft text: nftables 1.0.6's JSON parser cannot declare maps whose data is a
 * concatenation (address . port) and crashes on the DNAT rule that uses one.
 */
const T = `${TABLE.family} ${TABLE.name}`;
const addrType = (f: Family) => (f === 4 ? 'ipv4_addr' : 'ipv6_addr');

/** The map of an entry: with conditions, one of their own (see conditionsScript). */
export const dnatMap = (e: Pick<DnatEntry, 'family' | 'hostIP' | 'conditions'>) =>
  `portmap${e.family}${e.hostIP ? '_hostip' : ''}${e.conditions ? `_c${conditionsId(e.conditions)}` : ''}`;
export const masqSet = (f: Family) => `portmap${f}_masq`;
/**
 * Local destinations that are never host ports, filled by the node's administrator (the suite
 * never writes elements into it): with kube-proxy in IPVS mode every ClusterIP is a local address,
 * so without it a hostPort would capture that ClusterIP's traffic on the same port (CVE-2019-9946).
 */
export const excludeSet = (f: Family) => `portmap${f}_exclude`;

function chain(name: string, hook: string | undefined, rules: string[]): string[] {
  const spec = hook ? ` { ${hook} ; policy accept ; }` : '';
  return [`add chain ${T} ${name}${spec}`, `flush chain ${T} ${name}`, ...rules.map((r) => `add rule ${T} ${name} ${r}`)];
}

/** Every chain of the fixed part: a mapping needs them all (the guard makes route_localnet safe). */
export const STRUCTURE_CHAINS = ['portmap_dnat', 'portmap_prerouting', 'portmap_output', 'portmap_postrouting', 'localnet_guard'];

/** The two maps of one family's host ports (all addresses, and with a host address), with or without conditions. */
function dnatMaps(family: Family, conditions?: string): string[] {
  const a = addrType(family);
  return [
    `add map ${T} ${dnatMap({ family, conditions })} { type inet_proto . inet_service : ${a} . inet_service ; }`,
    `add map ${T} ${dnatMap({ family, hostIP: 'any', conditions })} { type ${a} . inet_proto . inet_service : ${a} . inet_service ; }`,
  ];
}

/** The exclusion, then the lookups of one family's maps, for packets that also match `conditions`. */
function dnatLookups(family: Family, conditions?: string): string[] {
  const ip = nftFamily(family);
  const match = `meta nfproto ipv${family}${conditions ? ` ${conditions}` : ''}`;
  return [
    `${ip} daddr @${excludeSet(family)} return`,
    `${match} dnat ${ip} to ${ip} daddr . meta l4proto . th dport map @${dnatMap({ family, hostIP: 'any', conditions })}`,
    `${match} dnat ${ip} to meta l4proto . th dport map @${dnatMap({ family, conditions })}`,
  ];
}

/** The fixed part, rebuilt in every ADD transaction (constant size) so a damaged chain heals. */
export function structureScript(): string[] {
  const families = [4, 6] as const;
  return [
    addTableText(),
    ...families.flatMap((f) => [
      ...dnatMaps(f),
      `add set ${T} ${masqSet(f)} { type ${addrType(f)} . ${addrType(f)} ; flags interval ; }`,
      `add set ${T} ${excludeSet(f)} { type ${addrType(f)} ; flags interval ; }`,
    ]),
    ...chain(
      'portmap_dnat',
      undefined,
      families.flatMap((f) => dnatLookups(f)),
    ),
    ...chain('portmap_prerouting', 'type nat hook prerouting priority -100', ['fib daddr type local jump portmap_dnat']),
    ...chain('portmap_output', 'type nat hook output priority -100', ['fib daddr type local jump portmap_dnat']),
    ...chain(
      'portmap_postrouting',
      'type nat hook postrouting priority 100',
      families.map((f) => `ct status dnat ${nftFamily(f)} daddr . ${nftFamily(f)} saddr @${masqSet(f)} masquerade`),
    ),
    ...chain('localnet_guard', 'type filter hook prerouting priority -300', ['iifname != "lo" ip daddr 127.0.0.0/8 drop']),
  ];
}

/** One family's conditions: they have maps of their own and a chain, hooked beside portmap_dnat's. */
export interface ConditionsGroup {
  family: Family;
  conditions: string;
}

const groupPrefix = (g: ConditionsGroup) => `portmap${g.family}_c${conditionsId(g.conditions)}`;

/** The conditions of the entries, once each. */
export function conditionsGroups(entries: PortmapEntry[]): ConditionsGroup[] {
  const groups = new Map<string, ConditionsGroup>();
  for (const e of entries) if (e.kind === 'dnat' && e.conditions) groups.set(`${e.family} ${e.conditions}`, { family: e.family, conditions: e.conditions });
  return [...groups.values()];
}

/**
 * A group's maps, and its chains: `portmap4_c<id>_dnat` holds the exclusion and the lookups gated by
 * the conditions; its own prerouting and output base chains (priority dstnat, as portmap_dnat's)
 * jump there for local destinations. Host ports are exclusive across all maps, so no packet
 * finds a mapping in two chains, and their order does not matter.
 */
export function conditionsScript(g: ConditionsGroup): string[] {
  const [dnat, prerouting, output] = conditionsChains(g);
  const jump = [`meta nfproto ipv${g.family} fib daddr type local jump ${dnat}`];
  return [
    ...dnatMaps(g.family, g.conditions),
    ...chain(dnat, undefined, dnatLookups(g.family, g.conditions)),
    ...chain(prerouting, 'type nat hook prerouting priority -100', jump),
    ...chain(output, 'type nat hook output priority -100', jump),
  ];
}

/** The group's chains: the lookups, and the two base chains that jump there. */
export const conditionsChains = (g: ConditionsGroup): string[] => ['dnat', 'prerouting', 'output'].map((suffix) => `${groupPrefix(g)}_${suffix}`);

/** Deletes a group's chains (base chains first: they jump to the other) and maps. */
export function conditionsTeardown(g: ConditionsGroup): NftCommand[] {
  const [dnat, prerouting, output] = conditionsChains(g);
  return [
    ...[prerouting, output, dnat].map((name) => ({ delete: { chain: { family: TABLE.family, table: TABLE.name, name } } })),
    ...[undefined, 'any'].map((hostIP) => ({
      delete: { map: { family: TABLE.family, table: TABLE.name, name: dnatMap({ family: g.family, hostIP, conditions: g.conditions }) } },
    })),
  ];
}

/** The maps of a group, to list what is left in them. */
export const conditionsMapSets = (g: ConditionsGroup): NftSet[] => [dnatMapSet({ ...g }), dnatMapSet({ ...g, hostIP: 'any' })];

const dnatMapSet = (e: Pick<DnatEntry, 'family' | 'hostIP' | 'conditions'>) => new NftSet({ family: 'inet', kind: 'map', name: dnatMap(e) });

/** The maps of host ports, each family with and without a host address. */
export const dnatMapSets = (): NftSet[] => ([4, 6] as const).flatMap((family) => [dnatMapSet({ family }), dnatMapSet({ family, hostIP: 'any' })]);

const masqSetOf = (f: Family) => new NftSet({ family: 'inet', kind: 'set', name: masqSet(f), prefixFields: [1] });

/** The entry's element: a host port's key and its container address and port, or a masquerade pair. */
export function elementOf(e: PortmapEntry): SetElement {
  if (e.kind === 'snat') return masqSetOf(e.family).element([e.containerIP, e.source]);
  return dnatMapSet(e).element([...(e.hostIP ? [e.hostIP] : []), e.protocol, e.hostPort], [e.containerIP, e.containerPort]);
}

/** What an entry claims on the host: a host port (exclusive) or a masquerade pair (taken over by the newest). */
export function resourceOf(e: PortmapEntry): string {
  return e.kind === 'dnat' ? `dnat${e.family}/${e.hostIP ?? '*'}/${e.protocol}/${e.hostPort}` : `snat${e.family}/${e.containerIP}/${e.source}`;
}

/** Every DNAT resource of one family, protocol and host port, whatever its host address. */
export const portGroup = (e: DnatEntry): string => `dnat${e.family}/${e.protocol}/${e.hostPort}`;

/** The host address a DNAT resource (see resourceOf) holds its port on; undefined for every address. */
export function hostIPOf(resource: string): string | undefined {
  const hostIP = resource.split('/')[1];
  return hostIP === '*' ? undefined : hostIP;
}
