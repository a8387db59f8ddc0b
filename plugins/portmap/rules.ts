import { addTableText, nftFamily, NftSet, TABLE, type SetElement } from '../../lib/nft';
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

export const dnatMap = (e: Pick<DnatEntry, 'family' | 'hostIP'>) => `portmap${e.family}${e.hostIP ? '_hostip' : ''}`;
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

/** The fixed part, rebuilt in every ADD transaction (constant size) so a damaged chain heals. */
export function structureScript(): string[] {
  const families = [4, 6] as const;
  return [
    addTableText(),
    ...families.flatMap((f) => [
      `add map ${T} ${dnatMap({ family: f })} { type inet_proto . inet_service : ${addrType(f)} . inet_service ; }`,
      `add map ${T} ${dnatMap({ family: f, hostIP: 'any' })} { type ${addrType(f)} . inet_proto . inet_service : ${addrType(f)} . inet_service ; }`,
      `add set ${T} ${masqSet(f)} { type ${addrType(f)} . ${addrType(f)} ; flags interval ; }`,
      `add set ${T} ${excludeSet(f)} { type ${addrType(f)} ; flags interval ; }`,
    ]),
    ...chain(
      'portmap_dnat',
      undefined,
      families.flatMap((f) => [
        `${nftFamily(f)} daddr @${excludeSet(f)} return`,
        `meta nfproto ipv${f} dnat ${nftFamily(f)} to ${nftFamily(f)} daddr . meta l4proto . th dport map @${dnatMap({ family: f, hostIP: 'any' })}`,
        `meta nfproto ipv${f} dnat ${nftFamily(f)} to meta l4proto . th dport map @${dnatMap({ family: f })}`,
      ]),
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

const dnatMapSet = (e: Pick<DnatEntry, 'family' | 'hostIP'>) => new NftSet({ family: 'inet', kind: 'map', name: dnatMap(e) });

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
