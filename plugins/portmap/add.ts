import { CniError, ErrorCode, invalidField } from '../../lib/errors';
import { log } from '../../lib/log';
import { deleteConntrackToPort } from '../../lib/netlink';
import { openNft, refusedStructure, ResourceTakenError } from '../../lib/nft';
import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { UndoStack } from '../../lib/undo';
import { attachmentKey, portMaps } from './records';
import { parseConfig, type PortMapConfig } from './config';
import { containerAddresses, planEntries, type PortmapEntry } from './entries';
import { enableLocalnetRouting } from './localnet';
import { isExclusive } from './port-maps';
import { conditionsChains, conditionsScript, hostIPOf, structureScript } from './rules';

/** Installs the mappings (one nftables transaction) and passes prevResult through. */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  const prev = requirePrevResult(cmd, 'portmap');
  if (!conf.mappings.length) return prev;
  const addresses = containerAddresses(prev, cmd.ifname);
  const entries = planEntries(conf, addresses, cmd.ifname);
  checkConditions(conf);
  const maps = portMaps(cmd);
  const key = attachmentKey(cmd);
  await new UndoStack().run(async (undo) => {
    try {
      maps.add(key, entries, isExclusive);
    } catch (err) {
      throw err instanceof ResourceTakenError ? portInUse(conf, err as ResourceTakenError<PortmapEntry>) : err;
    }
    undo.push('port mappings', () => maps.remove(key));
    // the localnet guard is in the ruleset now, so route_localnet cannot expose the host's loopback
    if (conf.snat && !conf.masqAll && addresses[4] && entries.some((e) => e.family === 4)) await enableLocalnetRouting(addresses[4].ip);
  });
  await forgetUdpConnections(entries);
  return prev;
}

/**
 * As the reference, once the mappings are in: a UDP client that keeps sending (DNS, syslog,
 * statsd) keeps its connection tracking entry, and with it the address of the container that had
 * the port before, for as long as it sends. Its host ports start afresh. A failure is logged only.
 */
async function forgetUdpConnections(entries: PortmapEntry[]): Promise<void> {
  const ports = new Set(entries.flatMap((e) => (e.kind === 'dnat' && e.protocol === 'udp' ? [`${e.family} ${e.hostPort}`] : [])));
  for (const port of ports) {
    const [family, hostPort] = port.split(' ').map(Number) as [4 | 6, number];
    try {
      const forgotten = await deleteConntrackToPort(family, 'udp', hostPort);
      if (forgotten) log.info('forgot the connection tracking of UDP flows to a mapped port', { family, hostPort, entries: forgotten });
    } catch (err) {
      log.warn('could not forget the connection tracking of UDP flows to a mapped port', { family, hostPort, error: (err as Error).message });
    }
  }
}

/** nftables' own word on the conditions, before anything changes: what it refuses is the config's fault (7). */
function checkConditions(conf: PortMapConfig): void {
  for (const family of [4, 6] as const) {
    const conditions = conf.conditions[family];
    if (!conditions) continue;
    const group = { family, conditions };
    const chains = conditionsChains(group).map((name) => ({ family: 'inet' as const, name }));
    const refused = refusedStructure(openNft(), { script: [...structureScript(), ...conditionsScript(group)], chains });
    if (refused) throw invalidField(`conditionsV${family}`, `nftables refuses ${JSON.stringify(conditions)}: ${refused}`);
  }
}

function portInUse(conf: PortMapConfig, err: ResourceTakenError<PortmapEntry>): CniError {
  const e = err.entry;
  if (e.kind !== 'dnat') return new CniError(ErrorCode.PortInUse, err.message);
  const mapping = conf.mappings.find((m) => m.protocol === e.protocol && m.hostPort === e.hostPort && m.hostIP === e.hostIP);
  const where = (hostIP: string | undefined) => hostIP ?? `every IPv${e.family} address`;
  return new CniError(
    ErrorCode.PortInUse,
    `${mapping ? `field "${mapping.field}": ` : ''}host port ${e.protocol}/${e.hostPort} on ${where(e.hostIP)} is not free: it is mapped on ${where(hostIPOf(err.held))}, ${err.message}`,
  );
}
