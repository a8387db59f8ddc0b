import * as z from 'zod/mini';
import { parseIP, parsePrefix } from '../ip';

const cidr = z.string().check(z.refine((s) => parsePrefix(s) !== undefined, 'expected an address with a prefix length, like "10.1.0.5/16"'));
const ipAddress = z.string().check(z.refine((s) => parseIP(s) !== undefined, 'expected an IP address'));
const count = z.int().check(z.nonnegative());
const opt = z.optional;

export const Interface = z.looseObject({
  name: z.string(),
  mac: opt(z.string()),
  mtu: opt(count),
  sandbox: opt(z.string()),
  socketPath: opt(z.string()),
  pciID: opt(z.string()),
});
export type Interface = z.infer<typeof Interface>;

export const IPConfig = z.looseObject({
  address: cidr,
  gateway: opt(ipAddress),
  interface: opt(count),
});
export type IPConfig = z.infer<typeof IPConfig>;

export const Route = z.looseObject({
  dst: cidr,
  gw: opt(ipAddress),
  mtu: opt(count),
  advmss: opt(count),
  priority: opt(count),
  table: opt(count),
  scope: opt(count),
});
export type Route = z.infer<typeof Route>;

export const DNS = z.looseObject({
  nameservers: opt(z.array(z.string())),
  domain: opt(z.string()),
  search: opt(z.array(z.string())),
  options: opt(z.array(z.string())),
});
export type DNS = z.infer<typeof DNS>;

/** The 1.x result, which is also the suite's internal result shape. */
export const Result = z.looseObject({
  cniVersion: opt(z.string()),
  interfaces: opt(z.array(Interface)),
  ips: opt(z.array(IPConfig)),
  routes: opt(z.array(Route)),
  dns: opt(DNS),
});
export type Result = z.infer<typeof Result>;
