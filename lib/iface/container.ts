import { CniError, Errno, ErrorCode, NetlinkError } from '../../lib/errors';
import { addToIP, formatIP, networkAddress, parseIP, parsePrefix, type IP, type Prefix } from '../../lib/ip';
import { addAddress, addRoute, listAddresses, setLinkUp, type LinkInfo, type RtNetlinkSocket } from '../../lib/netlink';
import { withNetns } from '../../lib/netns';
import { writeSysctl } from '../../lib/sysctl';
import type { IPConfig, Route } from '../../lib/types';

export interface Addressing {
  ip: IP;
  subnet: Prefix;
  /** IPAM's gateway, or the subnet's first address as the reference computes it. */
  gateway: IP;
}

export function addressingOf(ips: IPConfig[]): Addressing[] {
  return ips.map((c) => {
    const prefix = parsePrefix(c.address)!;
    const subnet = { ip: networkAddress(prefix), length: prefix.length };
    return { ip: prefix.ip, subnet, gateway: (c.gateway && parseIP(c.gateway)) || addToIP(subnet.ip, 1n) };
  });
}

/**
 * Routes for the container: IPAM's routes (a route without gw goes via the gateway of its family,
 * as the reference's ConfigureIface does) plus a default route per family when isDefaultGateway and
 * IPAM gave none.
 */
export function containerRoutes(ipamRoutes: Route[], addressing: Addressing[], isDefaultGateway: boolean): Route[] {
  const routes = [...ipamRoutes];
  if (isDefaultGateway) {
    for (const family of [4, 6] as const) {
      const a = addressing.find((x) => x.ip.family === family);
      const hasDefault = routes.some((r) => parsePrefix(r.dst)?.length === 0 && parsePrefix(r.dst)?.ip.family === family);
      if (a && !hasDefault) routes.push({ dst: family === 4 ? '0.0.0.0/0' : '::/0', gw: formatIP(a.gateway) });
    }
  }
  return routes;
}

/** Addresses, link up, routes, in the container; IPv6 usable at once unless DAD is asked for. */
export async function configureContainer(sock: RtNetlinkSocket, netnsPath: string, link: LinkInfo, addressing: Addressing[], routes: Route[], enableDad: boolean): Promise<void> {
  withNetns(netnsPath, () => {
    writeSysctl(['net', 'ipv4', 'conf', link.name, 'arp_notify'], '1');
    if (addressing.some((a) => a.ip.family === 6)) {
      writeSysctl(['net', 'ipv6', 'conf', link.name, 'disable_ipv6'], '0');
      writeSysctl(['net', 'ipv6', 'conf', link.name, 'accept_dad'], enableDad ? '1' : '0');
      if (enableDad) writeSysctl(['net', 'ipv6', 'conf', link.name, 'enhanced_dad'], '1');
    }
  });
  for (const a of addressing) await addAddress(sock, link.index, a.ip, a.subnet.length, !enableDad);
  await setLinkUp(sock, link, true);
  for (const route of routes) {
    const dst = parsePrefix(route.dst)!;
    const gateway = route.gw ? parseIP(route.gw) : addressing.find((a) => a.ip.family === dst.ip.family)?.gateway;
    try {
      await addRoute(sock, {
        dst: { ip: networkAddress(dst), length: dst.length },
        gw: gateway,
        linkIndex: link.index,
        priority: route.priority,
        table: route.table,
        scope: route.scope,
        mtu: route.mtu,
      });
    } catch (err) {
      // the same route twice (IPAM and isDefaultGateway both asking for it) is one route
      if (!(err instanceof NetlinkError && err.errno === Errno.EEXIST)) throw err;
    }
  }
  if (enableDad) await waitForDad(sock, link);
}

/** With DAD on, wait (bounded) until no address is tentative, so the result is usable. */
async function waitForDad(sock: RtNetlinkSocket, link: LinkInfo): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await listAddresses(sock, link.index)).some((a) => a.tentative)) {
    if (Date.now() > deadline) throw new CniError(ErrorCode.LinkFailure, `IPv6 duplicate address detection on ${JSON.stringify(link.name)} did not finish in 5 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
