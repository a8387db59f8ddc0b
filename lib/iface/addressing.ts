import { addToIP, formatIP, networkAddress, parseIP, parsePrefix, type IP, type Prefix } from '../ip';
import type { IPConfig, Route } from '../types';

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
