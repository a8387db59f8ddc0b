import type { TestNetns } from './netns';

type AddrDetail = Record<string, unknown> & { addr_info: Array<Record<string, unknown>>; linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> } };
type RouteRow = Record<string, unknown> & { dst: string; dev?: string; type?: string; table?: string; flags?: string[] };

/**
 * `ip -d -j addr show dev <dev>` for comparing two plugins' work: without MACs, indexes, lifetimes,
 * the link-local address (made from the MAC), the DAD flags, carrier, txqlen (the reference's
 * release 1.1.1 leaves 0, its current source and ours the kernel's 1000); the kind and its own
 * attributes (a macvlan's mode) stay.
 */
export function linkState(ns: TestNetns, dev: string) {
  const [link] = ns.ipJson<AddrDetail[]>('-d', 'addr', 'show', 'dev', dev);
  const { flags, mtu, qdisc, link_type, broadcast, promiscuity, operstate } = link;
  const addrs = link.addr_info
    .filter((a) => !(a.scope === 'link' && a.family === 'inet6'))
    .map(({ valid_life_time: _v, preferred_life_time: _p, nodad: _n, tentative: _t, ...a }) => a);
  return {
    flags: (flags as string[]).filter((f) => f !== 'NO-CARRIER'),
    mtu,
    qdisc,
    link_type,
    broadcast,
    promiscuity,
    operstate,
    kind: link.linkinfo?.info_kind,
    info_data: link.linkinfo?.info_data,
    addr_info: addrs,
  };
}

/** Every route of a namespace in every table but the kernel's local/broadcast/multicast ones and link-local. */
export function routeTable(ns: TestNetns, family: '-4' | '-6') {
  return ns
    .ipJson<RouteRow[]>('-d', family, 'route', 'show', 'table', 'all')
    .filter((r) => !r.type || r.type === 'unicast')
    .filter((r) => r.table !== 'local' && !r.dst.startsWith('fe80') && r.dev !== 'lo')
    .map((r) => JSON.stringify({ ...r, flags: (r.flags ?? []).filter((f) => f !== 'linkdown') }))
    .sort();
}

/** A result with what differs by chance normalised: MACs by their presence, the sandbox by role, an empty DNS (the reference prints {}, ours leaves it out) dropped. */
export function resultShape(result: Record<string, unknown>, sandbox: string) {
  const { dns, interfaces, ...rest } = result as { dns?: object; interfaces?: Array<{ name: string; mac?: string; sandbox?: string }> };
  return {
    ...rest,
    ...(dns && Object.keys(dns).length ? { dns } : {}),
    interfaces: (interfaces ?? []).map((i) => ({ ...i, mac: typeof i.mac, sandbox: i.sandbox === sandbox ? 'the container' : i.sandbox })),
  };
}
