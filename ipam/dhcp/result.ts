import { CniError, ErrorCode } from '../../lib/errors';
import type { DNS, Result, Route } from '../../lib/types';
import { type DhcpMessage, Option, addressList, classlessRoutes, domainSearch, formatIPv4, isZero, maskLength, optionText, staticRoutes } from './message';

/** RT_SCOPE_LINK: a classless route without a router is on the link, as the reference marks it. */
const SCOPE_LINK = 253;

/**
 * The CNI result of a lease, from its DHCPACK, as the reference builds it: the address with the
 * subnet mask's length and the first router as gateway; routes from option 121 when it holds any
 * (RFC 3442: then options 33 and 3 are not routes), else option 33's and a default route through
 * the router; `priority` as every route's metric. We add `dns` from options 6, 15 and 119.
 */
export function leaseResult(ack: DhcpMessage, cniVersion: string, priority = 0): Result {
  const length = maskLength(ack.options.get(Option.SUBNET_MASK));
  if (length === undefined) {
    const mask = ack.options.get(Option.SUBNET_MASK);
    throw new CniError(
      ErrorCode.DhcpFailure,
      mask
        ? `the DHCPACK's subnet mask ${mask.length === 4 ? formatIPv4(mask) : `(${mask.length} bytes)`} is not a contiguous mask`
        : 'DHCP option Subnet Mask not found in DHCPACK',
    );
  }
  const gateway = addressList(ack.options.get(Option.ROUTER))[0];
  const routes = leaseRoutes(ack, gateway).map((r) => (priority ? { ...r, priority } : r));
  const result: Result = {
    cniVersion,
    ips: [{ address: `${formatIPv4(ack.yiaddr)}/${length}`, ...(gateway ? { gateway: formatIPv4(gateway) } : {}) }],
    routes,
  };
  const dns = leaseDns(ack);
  if (dns) result.dns = dns;
  return result;
}

function leaseRoutes(ack: DhcpMessage, gateway: Buffer | undefined): Route[] {
  const classless = classlessRoutes(ack.options.get(Option.CLASSLESS_ROUTES)) ?? [];
  if (classless.length) {
    return classless.map((r) =>
      isZero(r.router) ? { dst: `${formatIPv4(r.dst)}/${r.length}`, scope: SCOPE_LINK } : { dst: `${formatIPv4(r.dst)}/${r.length}`, gw: formatIPv4(r.router) },
    );
  }
  const routes: Route[] = staticRoutes(ack.options.get(Option.STATIC_ROUTES)).map((r) => ({ dst: `${formatIPv4(r.dst)}/${r.length}`, gw: formatIPv4(r.router) }));
  if (gateway) routes.push({ dst: '0.0.0.0/0', gw: formatIPv4(gateway) });
  return routes;
}

function leaseDns(ack: DhcpMessage): DNS | undefined {
  const dns: DNS = {};
  const servers = addressList(ack.options.get(Option.DNS_SERVERS)).map(formatIPv4);
  if (servers.length) dns.nameservers = servers;
  const domain = optionText(ack.options.get(Option.DOMAIN_NAME));
  if (domain) dns.domain = domain;
  const search = domainSearch(ack.options.get(Option.DOMAIN_SEARCH)) ?? [];
  if (search.length) dns.search = search;
  return Object.keys(dns).length ? dns : undefined;
}
