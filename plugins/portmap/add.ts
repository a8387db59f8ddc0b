import { CniError, ErrorCode, invalidField, NftError } from '../../lib/errors';
import { log } from '../../lib/log';
import { deleteConntrackToPort } from '../../lib/netlink';
import { openNft, ResourceTakenError, ruleExpressions } from '../../lib/nft';
import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { UndoStack } from '../../lib/undo';
import { attachmentKey, portMaps } from './records';
import { parseConfig, type PortMapConfig } from './config';
import { containerAddresses, planEntries, type PortmapEntry } from './entries';
import { enableLocalnetRouting } from './localnet';
import { isExclusive } from './port-maps';
import { hostIPOf } from './rules';

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

/**
 * nftables' own reading of the conditions, before anything changes: nftables splits words on its
 * own (`{10.0.0.0/8}log` is a match and a statement), so only its parse can tell that they are
 * matches and nothing else. What it refuses to parse is the config's fault (7); what the kernel
 * refuses is not (130).
 */
function checkConditions(conf: PortMapConfig): void {
  for (const family of [4, 6] as const) {
    const conditions = conf.conditions[family];
    if (!conditions) continue;
    const field = `conditionsV${family}`;
    let expressions: Array<Record<string, unknown>>;
    try {
      expressions = ruleExpressions(openNft(), `meta nfproto ipv${family} ${conditions} accept`);
    } catch (err) {
      if (err instanceof NftError && !/Could not process rule/.test(err.message)) throw invalidField(field, `nftables refuses ${JSON.stringify(conditions)}: ${err.message}`);
      throw err;
    }
    const statements = expressions.slice(0, -1).filter((e) => !('match' in e));
    if (statements.length || !expressions.length || !('accept' in expressions[expressions.length - 1])) {
      const what = statements.map((e) => Object.keys(e)[0]).join(', ') || 'no final verdict';
      throw invalidField(field, `${JSON.stringify(conditions)} is not only matches: nftables reads ${what} in it`);
    }
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
