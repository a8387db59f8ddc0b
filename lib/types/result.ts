import { z } from 'zod';
import { parseIP, parsePrefix } from '../ip';

const cidr = z.string().refine((s) => parsePrefix(s) !== undefined, { message: 'expected an address with a prefix length, like "10.1.0.5/16"' });
const ipAddress = z.string().refine((s) => parseIP(s) !== undefined, { message: 'expected an IP address' });

export const Interface = z.looseObject({
  name: z.string(),
  mac: z.string().optional(),
  mtu: z.number().int().nonnegative().optional(),
  sandbox: z.string().optional(),
  socketPath: z.string().optional(),
  pciID: z.string().optional(),
});
export type Interface = z.infer<typeof Interface>;

export const IPConfig = z.looseObject({
  address: cidr,
  gateway: ipAddress.optional(),
  interface: z.number().int().nonnegative().optional(),
});
export type IPConfig = z.infer<typeof IPConfig>;

export const Route = z.looseObject({
  dst: cidr,
  gw: ipAddress.optional(),
  mtu: z.number().int().nonnegative().optional(),
  advmss: z.number().int().nonnegative().optional(),
  priority: z.number().int().nonnegative().optional(),
  table: z.number().int().nonnegative().optional(),
  scope: z.number().int().nonnegative().optional(),
});
export type Route = z.infer<typeof Route>;

export const DNS = z.looseObject({
  nameservers: z.array(z.string()).optional(),
  domain: z.string().optional(),
  search: z.array(z.string()).optional(),
  options: z.array(z.string()).optional(),
});
export type DNS = z.infer<typeof DNS>;

/** The 1.x result, which is also the suite's internal result shape. */
export const Result = z.looseObject({
  cniVersion: z.string().optional(),
  interfaces: z.array(Interface).optional(),
  ips: z.array(IPConfig).optional(),
  routes: z.array(Route).optional(),
  dns: DNS.optional(),
});
export type Result = z.infer<typeof Result>;

/** 0.3.x / 0.4.0: every IP also says its family. */
export const LegacyIPConfig = IPConfig.extend({ version: z.enum(['4', '6']) });
export const LegacyResult = Result.extend({ ips: z.array(LegacyIPConfig).optional() });
export type LegacyResult = z.infer<typeof LegacyResult>;
