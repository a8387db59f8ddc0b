import { formatIP, type IP, type Prefix } from '../ip';
import { bytesToIP, familyConstant, ipToBytes } from './addresses';
import { u32 } from './attributes';
import { FlagsNew, type RtNetlinkSocket } from './package';
import { call } from './socket';

const MAIN_TABLE = 254;
/** The address families a dump asks for; AF_UNSPEC dumps both. */
const AF = { 4: 2, 6: 10, both: 0 } as const;

export interface RouteSpec {
  dst: Prefix;
  gw?: IP;
  linkIndex: number;
  priority?: number;
  table?: number;
  /** 0 universe (default), 253 link, 254 host */
  scope?: number;
  mtu?: number;
  /** The preferred source address (RTA_PREFSRC), as in `ip route add ... src`. */
  src?: IP;
  /** Replace a route to the same destination (`ip route replace`) instead of adding beside it. */
  replace?: boolean;
  /** Who made it (`proto`): a route copied from the kernel's keeps "KERNEL"; default "BOOT", as `ip route add`. */
  protocol?: RouteProtocolName;
}

/** The rtnetlink route protocols by name, as the package spells them (KERNEL, BOOT, STATIC, ...). */
export type RouteProtocolName = string | number;

export interface RouteInfo {
  dst: Prefix;
  gw?: IP;
  linkIndex?: number;
  table: number;
  scope: number;
  src?: IP;
  protocol?: RouteProtocolName;
  /** The metric (RTA_PRIORITY), when the kernel reports one. */
  priority?: number;
}

/** The package names a route's scope; the kernel's numbers are what callers compare. */
const SCOPES: Record<string, number> = { UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 };
const scopeNumber = (scope: unknown): number => (typeof scope === 'number' ? scope : (SCOPES[String(scope)] ?? 0));

const describe = (r: { dst: Prefix; gw?: IP }) => `${formatIP(r.dst.ip)}/${r.dst.length}${r.gw ? ` via ${formatIP(r.gw)}` : ''}`;

/**
 * Adds the route beside any to the same destination (NLM_F_APPEND, as the reference's
 * netlink.RouteAddEcmp): a container on a second network gets a second default route, which takes
 * over when the first network is disconnected. An identical route is EEXIST.
 */
export async function addRoute(sock: RtNetlinkSocket, route: RouteSpec): Promise<void> {
  const table = route.table ?? MAIN_TABLE;
  await call(`add route ${describe(route)}`, () =>
    sock.newRoute(
      {
        family: familyConstant(route.dst.ip),
        dstLen: route.dst.length,
        table: table < 256 ? table : 252,
        protocol: (route.protocol ?? 'BOOT') as 'BOOT',
        scope: route.scope ?? (route.gw ? 0 : 253),
        type: 'UNICAST',
      },
      {
        dst: route.dst.length ? ipToBytes(route.dst.ip) : undefined,
        gateway: route.gw ? ipToBytes(route.gw) : undefined,
        oif: route.linkIndex,
        prefsrc: route.src ? ipToBytes(route.src) : undefined,
        priority: route.priority,
        table: table >= 256 ? table : undefined,
        metrics: route.mtu ? { mtu: u32(route.mtu) } : undefined,
      },
      { flags: FlagsNew.CREATE | (route.replace ? FlagsNew.REPLACE : FlagsNew.APPEND) },
    ),
  );
}

/**
 * Deletes the route to `dst` through link `linkIndex` in `table` (default main), whatever its
 * scope, protocol and metric (as `ip route del <dst> dev <link> table <table>`). ESRCH when there is none.
 */
export async function deleteRoute(sock: RtNetlinkSocket, route: { dst: Prefix; linkIndex: number; table?: number; priority?: number }): Promise<void> {
  const table = route.table ?? MAIN_TABLE;
  await call(`delete route ${describe(route)}`, () =>
    sock.delRoute(
      { family: familyConstant(route.dst.ip), dstLen: route.dst.length, table: table < 256 ? table : 252, scope: 'NOWHERE' },
      { dst: route.dst.length ? ipToBytes(route.dst.ip) : undefined, oif: route.linkIndex, table: table >= 256 ? table : undefined, priority: route.priority },
    ),
  );
}

/** Routes of one family, or of both in one dump, in the main table (or every table when `allTables`). */
export async function listRoutes(sock: RtNetlinkSocket, family: 4 | 6 | 'both', allTables = false): Promise<RouteInfo[]> {
  const messages = await call('list routes', () => sock.getRoutes({ family: AF[family] }));
  return messages
    .map((m) => {
      const table = m.attrs.table ?? m.data.table ?? 0;
      const ip: IP = m.attrs.dst ? bytesToIP(m.attrs.dst) : { family: m.data.family === AF[6] ? 6 : 4, value: 0n };
      const gw = m.attrs.gateway ? bytesToIP(m.attrs.gateway) : undefined;
      const src = m.attrs.prefsrc ? bytesToIP(m.attrs.prefsrc) : undefined;
      const protocol = m.data.protocol;
      const priority = m.attrs.priority;
      return {
        dst: { ip, length: m.data.dstLen ?? 0 },
        gw,
        linkIndex: m.attrs.oif,
        table,
        scope: scopeNumber(m.data.scope),
        src,
        ...(protocol ? { protocol } : {}),
        ...(priority !== undefined ? { priority } : {}),
      };
    })
    .filter((r) => allTables || r.table === MAIN_TABLE);
}

/** The index of the interface the kernel would send a packet to `ip` through (RTM_GETROUTE), if any. */
export async function outputInterface(sock: RtNetlinkSocket, ip: IP): Promise<number | undefined> {
  const family = familyConstant(ip);
  const bits = ip.family === 4 ? 32 : 128;
  const [route] = await call(`route get ${formatIP(ip)}`, () => sock.getRoute({ family, dstLen: bits }, { dst: ipToBytes(ip) }));
  return route?.attrs.oif;
}
