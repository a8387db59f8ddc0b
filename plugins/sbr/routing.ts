import { throwFailures, tryEach } from '../../lib/best-effort';
import { CniError, Errno, ErrorCode, NetlinkError } from '../../lib/errors';
import { log } from '../../lib/log';
import { formatIP, formatPrefix, hostPrefix, networkAddress, parseIP, parsePrefix, prefixContains, type Family, type IP, type Prefix } from '../../lib/ip';
import { addRoute, addRule, deleteRoute, deleteRule, listRoutes, listRules, type LinkInfo, type RouteInfo, type RtNetlinkSocket } from '../../lib/netlink';
import type { Result } from '../../lib/types';
import type { UndoStack } from '../../lib/undo';
import type { SbrConfig } from './config';
import type { SbrRecord, TableRoute } from './records';

/** The reference's first table of its own. */
const FIRST_TABLE = 100;
const MAIN_TABLE = 254;
const LINK_SCOPE = 253;
/** The metric the kernel gives an IPv6 route added without one. */
const IPV6_DEFAULT_METRIC = 1024;

export interface InterfaceAddress {
  address: Prefix;
  gateway?: IP;
}

/** prevResult's addresses of `ifname` (an address without an interface index counts), as the reference picks them. */
export function interfaceAddresses(prev: Result, ifname: string): InterfaceAddress[] {
  return (prev.ips ?? []).flatMap((ip) => {
    const iface = ip.interface !== undefined ? prev.interfaces?.[ip.interface] : undefined;
    if (iface && iface.name !== ifname) return [];
    const address = parsePrefix(ip.address);
    const gateway = ip.gateway ? parseIP(ip.gateway) : undefined;
    return address ? [{ address, ...(gateway ? { gateway } : {}) }] : [];
  });
}

const defaultRoute = (family: Family): Prefix => ({ ip: { family, value: 0n }, length: 0 });
const subnetOf = (p: Prefix): Prefix => ({ ip: networkAddress(p), length: p.length });
const ignoring = (errno: number) => (err: unknown) => {
  if (!(err instanceof NetlinkError && err.errno === errno)) throw err;
};

const routeText = (table: number, r: { dst: Prefix; gw?: IP; src?: IP; scope: number }): TableRoute => ({
  table,
  dst: formatPrefix(r.dst),
  ...(r.gw ? { gw: formatIP(r.gw) } : {}),
  ...(r.src ? { src: formatIP(r.src) } : {}),
  scope: r.scope,
});

/**
 * `from <address> lookup <table>` for each address, into the config's table, as the reference's
 * `table` option (it adds rules only).
 */
export async function addRulesOnly(sock: RtNetlinkSocket, table: number, addresses: InterfaceAddress[], undo: UndoStack): Promise<Omit<SbrRecord, 'netns'>> {
  const rules: SbrRecord['rules'] = [];
  for (const { address } of addresses) {
    const rule = { src: hostPrefix(address.ip), table };
    await addRule(sock, rule);
    undo.push(`rule ${formatPrefix(rule.src)}`, () => deleteRule(sock, rule).catch(ignoring(Errno.ENOENT)));
    rules.push({ src: formatPrefix(rule.src), table });
  }
  return { rules, routes: [] };
}

/**
 * As the reference without `table`: each address gets the next table from 100 that no rule or
 * route uses, a rule sending its traffic there, a default route through the gateway (the config's
 * `gateways`, else IPAM's) and a copy of the interface's main routes that belong to it; then the
 * interface's routes leave the main table (with `addSourceHints`, its subnets stay there with the
 * address as source). Replies leave through the interface a request came in on.
 */
export async function routeBySource(sock: RtNetlinkSocket, link: LinkInfo, conf: SbrConfig, addresses: InterfaceAddress[], undo: UndoStack): Promise<Omit<SbrRecord, 'netns'>> {
  const allRoutes = await listRoutes(sock, 'both', true);
  const used = new Set([...(await listRules(sock, 'both')), ...allRoutes].map((r) => r.table));
  const mainRoutes = allRoutes.filter((r) => r.table === MAIN_TABLE && r.linkIndex === link.index);
  const record: Omit<SbrRecord, 'netns'> = { rules: [], routes: [] };
  let table = FIRST_TABLE;
  for (const { address, gateway } of addresses) {
    while (used.has(table)) table++;
    used.add(table);
    const rule = { src: hostPrefix(address.ip), table };
    await addRule(sock, rule);
    undo.push(`rule ${formatPrefix(rule.src)}`, () => deleteRule(sock, rule).catch(ignoring(Errno.ENOENT)));
    record.rules.push({ src: formatPrefix(rule.src), table });
    const gw = conf.gateways[address.ip.family] ?? gateway;
    const routes: Array<{ dst: Prefix; gw?: IP; src?: IP; scope: number; protocol?: string | number; priority?: number }> = [
      ...(gw ? [{ dst: defaultRoute(address.ip.family), gw, scope: 0 }] : []),
      ...mainRoutes.filter((r) => belongsTo(r, address)),
    ];
    for (const r of routes) {
      await addRoute(sock, { ...r, linkIndex: link.index, table, replace: true });
      undo.push(`route ${formatPrefix(r.dst)} table ${table}`, () => deleteRoute(sock, { dst: r.dst, linkIndex: link.index, table }).catch(ignoring(Errno.ESRCH)));
      record.routes.push(routeText(table, r));
    }
  }
  await leaveMainTable(sock, link, conf, addresses, mainRoutes, undo);
  return record;
}

/** The reference copies a main route that has the address's subnet as source or gateway, or neither (of either family). */
const belongsTo = (r: RouteInfo, address: Prefix): boolean => Boolean((r.src && prefixContains(address, r.src)) || (r.gw && prefixContains(address, r.gw)) || (!r.src && !r.gw));

async function leaveMainTable(sock: RtNetlinkSocket, link: LinkInfo, conf: SbrConfig, addresses: InterfaceAddress[], mainRoutes: RouteInfo[], undo: UndoStack): Promise<void> {
  // put back in an order the kernel takes: on-link routes before the routes through a gateway on them
  const ordered = [...mainRoutes.filter((r) => !r.gw), ...mainRoutes.filter((r) => r.gw)];
  undo.push('main routes', async () => {
    for (const r of ordered) await addRoute(sock, { ...r, linkIndex: link.index, replace: true });
  });
  if (conf.addSourceHints) {
    for (const { address } of addresses) {
      const hint = { dst: subnetOf(address), src: address.ip, scope: LINK_SCOPE, linkIndex: link.index, replace: true };
      // as the reference: a hint that cannot be set is a warning, not a failed ADD
      try {
        await addRoute(sock, hint);
        undo.push(`source hint ${formatPrefix(hint.dst)}`, () =>
          deleteRoute(sock, { dst: hint.dst, linkIndex: link.index, priority: address.ip.family === 6 ? IPV6_DEFAULT_METRIC : undefined }).catch(ignoring(Errno.ESRCH)),
        );
      } catch (err) {
        log.warn('sbr: could not add a source hint', { route: formatPrefix(hint.dst), error: (err as Error).message });
      }
    }
  }
  for (const r of mainRoutes) {
    if (conf.addSourceHints && r.scope === LINK_SCOPE) continue;
    await deleteRoute(sock, { dst: r.dst, linkIndex: link.index, priority: r.priority }).catch(ignoring(Errno.ESRCH));
  }
}

/** Removes the recorded rules and table routes, every one tried; what is already gone is fine. */
export async function removeRecorded(sock: RtNetlinkSocket, link: LinkInfo | undefined, record: Omit<SbrRecord, 'netns'>): Promise<void> {
  const steps: Array<[string, () => Promise<void>]> = record.rules.map((rule) => [
    `delete rule from ${rule.src} lookup ${rule.table}`,
    () => deleteRule(sock, { src: parsePrefix(rule.src)!, table: rule.table }).catch(ignoring(Errno.ENOENT)),
  ]);
  if (link) {
    for (const r of record.routes) {
      steps.push([
        `delete route ${r.dst} table ${r.table}`,
        () => deleteRoute(sock, { dst: parsePrefix(r.dst)!, linkIndex: link.index, table: r.table }).catch(ignoring(Errno.ESRCH)),
      ]);
    }
  }
  throwFailures('sbr could not remove everything', await tryEach(steps, 'DEL: '));
}

/** Without a record (lost, or another plugin's ADD): the rules from the interface's addresses, into `table` if given, as the reference's DEL. */
export async function rulesFromAddresses(sock: RtNetlinkSocket, sources: IP[], table: number | undefined): Promise<SbrRecord['rules']> {
  const wanted = new Set(sources.map((ip) => formatPrefix(hostPrefix(ip))));
  const rules = await listRules(sock, 'both');
  return rules.filter((r) => r.src && wanted.has(formatPrefix(r.src)) && (table === undefined || r.table === table)).map((r) => ({ src: formatPrefix(r.src!), table: r.table }));
}

/** What the record says should be in the container and is not. */
export async function missingFrom(sock: RtNetlinkSocket, record: Omit<SbrRecord, 'netns'>): Promise<string[]> {
  const rules = new Set((await listRules(sock, 'both')).flatMap((r) => (r.src ? [`${formatPrefix(r.src)} ${r.table}`] : [])));
  const routes = new Set((await listRoutes(sock, 'both', true)).map((r) => routeKey(routeText(r.table, r))));
  return [
    ...record.rules.filter((r) => !rules.has(`${r.src} ${r.table}`)).map((r) => `rule from ${r.src} lookup ${r.table}`),
    ...record.routes.filter((r) => !routes.has(routeKey(r))).map((r) => `route ${r.dst}${r.gw ? ` via ${r.gw}` : ''} table ${r.table}`),
  ];
}

const routeKey = (r: TableRoute) => `${r.table} ${r.dst} ${r.gw ?? ''}`;

export const noAddress = (ifname: string) =>
  new CniError(ErrorCode.InvalidNetworkConfig, `prevResult has no IP address for interface ${JSON.stringify(ifname)}: nothing to route by source`);
