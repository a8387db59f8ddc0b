import * as z from 'zod/mini';
import { CniError, ErrorCode, invalidField } from '../../lib/errors';
import { formatIP, formatPrefix, parseIP, parsePrefix, prefixContains, type IP, type Prefix } from '../../lib/ip';
import { log } from '../../lib/log';
import { checkKnownArgs, type CmdArgs } from '../../lib/skel';
import { NetConf, parseWith, type DNS, type Route } from '../../lib/types';

// Go decodes a JSON null into an empty slice, string or struct; the reference accepts it, so do we.
const opt = z.nullish;
const text = z.string();
const count = z.int().check(z.nonnegative());

const AddressSchema = z.looseObject({ address: opt(text), gateway: opt(text) });
const RouteSchema = z.looseObject({
  dst: text,
  gw: opt(text),
  mtu: opt(count),
  advmss: opt(count),
  priority: opt(count),
  table: opt(count),
  scope: opt(z.int().check(z.nonnegative(), z.lte(255))),
});
const DnsSchema = z.looseObject({ nameservers: opt(z.array(text)), domain: opt(text), search: opt(z.array(text)), options: opt(z.array(text)) });
const ips = opt(z.array(text));

const StaticConf = z.extend(NetConf, {
  ipam: z.looseObject({
    type: opt(text),
    addresses: opt(z.array(AddressSchema)),
    routes: opt(z.array(RouteSchema)),
    dns: opt(DnsSchema),
  }),
  runtimeConfig: z.optional(z.looseObject({ ips })),
  args: z.optional(z.looseObject({ cni: opt(z.looseObject({ ips })) })),
});
type StaticConfInput = z.infer<typeof StaticConf>;

/** One address of the result, with the field it came from (for CHECK's messages). */
export interface StaticAddress {
  prefix: Prefix;
  gateway?: IP;
  field: string;
}

/** static's config with the reference's precedence applied and every value checked. */
export interface StaticConfig {
  cniVersion: string;
  addresses: StaticAddress[];
  /** In the reference's wire shape: canonical text, zero mtu/advmss/priority left out. */
  routes: Route[];
  dns?: DNS;
}

const CIDR_EXAMPLE = 'expected an address with a prefix length, like "10.1.0.5/24"';
const family = (ip: IP) => `IPv${ip.family}`;

/**
 * The addresses, as the reference picks them: `runtimeConfig.ips` (capability `ips`) if not empty,
 * else `args.cni.ips` if not empty, else `ipam.addresses` followed by `CNI_ARGS` `IP=`. `GATEWAY=`
 * sets the gateway of the `IP=` addresses whose subnet holds it. Every source is checked, except
 * `ipam.addresses` when a list replaces it (the reference reads it only when it is used).
 */
export function parseConfig(cmd: CmdArgs): StaticConfig {
  const conf = parseWith(StaticConf, cmd.config, 'static config');
  const fromEnv = envAddresses(cmd);
  const fromArgs = listAddresses(conf.args?.cni?.ips, 'args.cni.ips');
  const fromRuntime = listAddresses(conf.runtimeConfig?.ips, 'runtimeConfig.ips');
  const addresses = fromRuntime.length ? fromRuntime : fromArgs.length ? fromArgs : [...configAddresses(conf), ...fromEnv];
  return {
    cniVersion: conf.cniVersion,
    addresses,
    routes: (conf.ipam.routes ?? []).map((r, i) => parseRoute(r, `ipam.routes[${i}]`)),
    dns: parseDns(conf.ipam.dns),
  };
}

/** The result's ips: address and gateway only; the interface index is the calling plugin's to set. */
export const resultIPs = (addresses: StaticAddress[]) =>
  addresses.map(({ prefix, gateway }) => ({ address: formatPrefix(prefix), ...(gateway ? { gateway: formatIP(gateway) } : {}) }));

function configAddresses(conf: StaticConfInput): StaticAddress[] {
  return (conf.ipam.addresses ?? []).map((a, i) => {
    const field = `ipam.addresses[${i}]`;
    const prefix = parsePrefix(a.address ?? '');
    if (!prefix) {
      if (a.address == null) throw invalidField(`${field}.address`, `is required (${CIDR_EXAMPLE})`);
      throw invalidField(`${field}.address`, `${CIDR_EXAMPLE}, got ${JSON.stringify(a.address)}`);
    }
    // an empty gateway is none, as Go's net.IP decodes it
    if (!a.gateway) return { prefix, field };
    const gateway = parseIP(a.gateway);
    if (!gateway) throw invalidField(`${field}.gateway`, `expected an IP address, got ${JSON.stringify(a.gateway)}`);
    if (gateway.family !== prefix.ip.family) {
      throw invalidField(`${field}.gateway`, `${JSON.stringify(a.gateway)} is ${family(gateway)} but the address ${JSON.stringify(a.address)} is ${family(prefix.ip)}`);
    }
    return { prefix, gateway, field };
  });
}

function listAddresses(list: string[] | null | undefined, field: string): StaticAddress[] {
  return (list ?? []).map((entry, i) => {
    const prefix = parsePrefix(entry);
    if (!prefix) throw invalidField(`${field}[${i}]`, `${CIDR_EXAMPLE}, got ${JSON.stringify(entry)}`);
    return { prefix, field: `${field}[${i}]` };
  });
}

/** CNI_ARGS IP=a/len,b/len and GATEWAY=gw,gw (code 4 when malformed); other keys only with IgnoreUnknown. */
function envAddresses(cmd: CmdArgs): StaticAddress[] {
  checkKnownArgs(cmd.args, ['IP', 'GATEWAY']);
  const split = (key: string) => {
    const value = cmd.args.get(key) ?? '';
    return value === '' ? [] : value.split(',').map((item) => item.trim());
  };
  const addresses: StaticAddress[] = split('IP').map((item) => {
    const prefix = parsePrefix(item);
    if (!prefix) throw new CniError(ErrorCode.InvalidEnvironment, `invalid CNI_ARGS IP: ${CIDR_EXAMPLE}, got ${JSON.stringify(item)}`);
    return { prefix, field: 'CNI_ARGS IP' };
  });
  for (const item of split('GATEWAY')) {
    const gateway = parseIP(item);
    if (!gateway) throw new CniError(ErrorCode.InvalidEnvironment, `invalid CNI_ARGS GATEWAY: expected IP addresses, got ${JSON.stringify(item)}`);
    const served = addresses.filter((a) => prefixContains(a.prefix, gateway));
    // as in the reference, a gateway outside every IP= subnet is ignored; say so, it is likely a mistake
    if (!served.length) log.warn('CNI_ARGS GATEWAY is in the subnet of no CNI_ARGS IP address; ignored', { gateway: item });
    for (const a of served) a.gateway = gateway;
  }
  return addresses;
}

type RouteInput = z.infer<typeof RouteSchema>;

function parseRoute(r: RouteInput, field: string): Route {
  const dst = parsePrefix(r.dst);
  if (!dst) throw invalidField(`${field}.dst`, `${CIDR_EXAMPLE}, got ${JSON.stringify(r.dst)}`);
  const route: Route = { dst: formatPrefix(dst) };
  if (r.gw) {
    const gw = parseIP(r.gw);
    if (!gw) throw invalidField(`${field}.gw`, `expected an IP address, got ${JSON.stringify(r.gw)}`);
    if (gw.family !== dst.ip.family) throw invalidField(`${field}.gw`, `${JSON.stringify(r.gw)} is ${family(gw)} but dst ${JSON.stringify(r.dst)} is ${family(dst.ip)}`);
    route.gw = formatIP(gw);
  }
  // the reference's wire format: zero mtu, advmss and priority are left out, table and scope kept
  if (r.mtu) route.mtu = r.mtu;
  if (r.advmss) route.advmss = r.advmss;
  if (r.priority) route.priority = r.priority;
  if (r.table != null) route.table = r.table;
  if (r.scope != null) route.scope = r.scope;
  return route;
}

function parseDns(dns: z.infer<typeof DnsSchema> | null | undefined): DNS | undefined {
  if (!dns) return undefined;
  const out: DNS = {};
  if (dns.nameservers?.length) out.nameservers = dns.nameservers;
  if (dns.domain) out.domain = dns.domain;
  if (dns.search?.length) out.search = dns.search;
  if (dns.options?.length) out.options = dns.options;
  return Object.keys(out).length ? out : undefined;
}
