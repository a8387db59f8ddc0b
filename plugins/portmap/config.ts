import * as z from 'zod/mini';
import { invalidField as invalid } from '../../lib/errors';
import { formatIP, parseIP, type Family } from '../../lib/ip';
import { acceptBackendField } from '../../lib/nft/backend-field';
import type { CmdArgs } from '../../lib/skel';
import { NetConf, parseWith } from '../../lib/types';
import { type Conditions, parseConditions } from './conditions';

const opt = z.optional;
const port = z.int().check(z.minimum(1), z.maximum(65535));

const PortMappingSchema = z.looseObject({
  hostPort: port,
  containerPort: port,
  protocol: opt(z.string()),
  hostIP: opt(z.string()),
});

const PortMapConf = z.extend(NetConf, {
  backend: opt(z.string()),
  snat: opt(z.boolean()),
  masqAll: opt(z.boolean()),
  markMasqBit: opt(z.int().check(z.minimum(0), z.maximum(31))),
  externalSetMarkChain: opt(z.string()),
  conditionsV4: opt(z.array(z.string())),
  conditionsV6: opt(z.array(z.string())),
  runtimeConfig: opt(z.looseObject({ portMappings: opt(z.array(PortMappingSchema)) })),
});

export const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** One requested mapping; `field` names it in the config for error messages. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
  /** A specific host address; undefined means every local address. */
  hostIP?: string;
  /** The only family the mapping applies to ("0.0.0.0", "::" or a specific hostIP); undefined means both. */
  family?: Family;
  field: string;
}

export interface PortMapConfig {
  cniVersion: string;
  networkName: string;
  /** Masquerade hairpin, same-subnet and localhost connections, and set route_localnet (default true). */
  snat: boolean;
  /** Masquerade connections from every source to the container (for plugins without a host-side gateway). */
  masqAll: boolean;
  mappings: PortMapping[];
  /** Matches a packet must also pass for these mappings, per family (see conditions.ts). */
  conditions: Conditions;
}

export function parseConfig(cmd: CmdArgs): PortMapConfig {
  const conf = parseWith(PortMapConf, cmd.config, 'portmap config');
  acceptBackendField('backend', conf.backend, 'port mapping');
  if (conf.markMasqBit !== undefined && conf.externalSetMarkChain !== undefined) {
    throw invalid('markMasqBit', 'cannot be used together with externalSetMarkChain');
  }
  const conditions: Conditions = {};
  const v4 = parseConditions('conditionsV4', conf.conditionsV4);
  const v6 = parseConditions('conditionsV6', conf.conditionsV6);
  if (v4) conditions[4] = v4;
  if (v6) conditions[6] = v6;
  const mappings = (conf.runtimeConfig?.portMappings ?? []).map((m, i) => toMapping(m, `runtimeConfig.portMappings[${i}]`));
  rejectDuplicates(mappings);
  return { cniVersion: conf.cniVersion, networkName: conf.name, snat: conf.snat ?? true, masqAll: Boolean(conf.masqAll), mappings, conditions };
}

function toMapping(m: z.infer<typeof PortMappingSchema>, field: string): PortMapping {
  const protocol = (m.protocol ?? 'tcp').toLowerCase();
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    throw invalid(`${field}.protocol`, `${JSON.stringify(m.protocol)} is not a protocol: expected one of ${PROTOCOLS.join(', ')}`);
  }
  const base = { hostPort: m.hostPort, containerPort: m.containerPort, protocol: protocol as Protocol, field };
  if (!m.hostIP) return base;
  const ip = parseIP(m.hostIP);
  if (!ip) throw invalid(`${field}.hostIP`, `${JSON.stringify(m.hostIP)} is not an IP address`);
  // "0.0.0.0" and "::" mean every address of one family, as in netavark and Docker
  if (ip.value === 0n) return { ...base, family: ip.family };
  return { ...base, hostIP: formatIP(ip), family: ip.family };
}

const mappingKey = (m: PortMapping, family: Family) => `${family} ${m.hostIP ?? '*'} ${m.protocol} ${m.hostPort}`;

function rejectDuplicates(mappings: PortMapping[]): void {
  const seen = new Map<string, PortMapping>();
  for (const m of mappings) {
    for (const family of m.family ? [m.family] : ([4, 6] as const)) {
      const first = seen.get(mappingKey(m, family));
      if (first && first !== m) {
        throw invalid(`${m.field}.hostPort`, `${m.protocol} port ${m.hostPort}${m.hostIP ? ` on ${m.hostIP}` : ''} is already mapped by ${first.field}`);
      }
      seen.set(mappingKey(m, family), m);
    }
  }
}
