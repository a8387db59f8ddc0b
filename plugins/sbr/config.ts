import * as z from 'zod/mini';
import { invalidField } from '../../lib/errors';
import { formatIP, parseIP, type Family, type IP } from '../../lib/ip';
import type { CmdArgs } from '../../lib/skel';
import { NetConf, parseWith } from '../../lib/types';

const opt = z.optional;
const SbrConf = z.extend(NetConf, {
  table: opt(z.int().check(z.minimum(1), z.maximum(0xffffffff))),
  gateways: opt(z.array(z.string())),
  addSourceHints: opt(z.boolean()),
});

export interface SbrConfig {
  cniVersion: string;
  /** Rules only, into this table; none: a table of its own per address from 100, with the interface's routes. */
  table?: number;
  /** The default route's gateway per family in those tables, instead of IPAM's. */
  gateways: Partial<Record<Family, IP>>;
  /** Keep the subnet routes in the main table with the address as source, instead of moving them all. */
  addSourceHints: boolean;
}

export function parseConfig(cmd: CmdArgs): SbrConfig {
  const conf = parseWith(SbrConf, cmd.config, 'sbr config');
  return { cniVersion: conf.cniVersion, table: conf.table, gateways: parseGateways(conf.gateways ?? []), addSourceHints: Boolean(conf.addSourceHints) };
}

/** At most one IPv4 and one IPv6 gateway, as the reference. */
function parseGateways(texts: string[]): Partial<Record<Family, IP>> {
  if (texts.length > 2) throw invalidField('gateways', 'holds more than 2 entries: at most one IPv4 and one IPv6 gateway');
  const gateways: Partial<Record<Family, IP>> = {};
  texts.forEach((text, i) => {
    const ip = parseIP(text);
    if (!ip) throw invalidField(`gateways[${i}]`, `${JSON.stringify(text)} is not an IP address`);
    const other = gateways[ip.family];
    if (other) throw invalidField('gateways', `holds two IPv${ip.family} addresses: ${formatIP(other)} and ${formatIP(ip)}`);
    gateways[ip.family] = ip;
  });
  return gateways;
}
