import { CniError, ErrorCode } from '../../lib/errors';
import { ResourceTakenError } from '../../lib/nft';
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
  return prev;
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
