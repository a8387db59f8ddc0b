import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { CniError, ErrorCode } from '../errors';
import { readdirIfExists } from '../fs';
import { goField, matchGoKeys, NetConf, NetConfList, parseWith } from '../types';

export const DEFAULT_CONF_DIR = '/etc/cni/net.d';
const EXTENSIONS = ['.conf', '.conflist', '.json'];

export interface LoadedNetwork {
  list: NetConfList;
  file: string;
}

/** A single-plugin .conf/.json becomes a list of one, as libcni's ConfListFromConf does. */
function asList(raw: Record<string, unknown>): unknown {
  if (Array.isArray(goField(raw, 'plugins'))) return raw;
  const { cniVersion, name, ...plugin } = matchGoKeys(NetConf, raw) as Record<string, unknown>;
  return { cniVersion, name, plugins: [plugin] };
}

/** Every network file of `dir` in libcni's order (sorted by name), parsed; a file that does not parse comes back with its error. */
export function loadNetworks(dir: string): Array<LoadedNetwork | { file: string; error: string }> {
  return readdirIfExists(dir)
    .filter((f) => EXTENSIONS.includes(extname(f)))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      try {
        const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        return { list: parseWith(NetConfList, asList(raw), file, ErrorCode.InvalidNetworkConfig), file };
      } catch (err) {
        return { file, error: (err as Error).message };
      }
    });
}

/** The network called `name`: files sorted by name, the first whose network name matches wins. */
export function loadNetwork(dir: string, name: string): LoadedNetwork {
  const files = readdirIfExists(dir)
    .filter((f) => EXTENSIONS.includes(extname(f)))
    .sort();
  for (const f of files) {
    const file = join(dir, f);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      continue; // not ours to judge: libcni skips unreadable files when searching by name
    }
    if (goField(raw, 'name') !== name) continue;
    return { list: parseWith(NetConfList, asList(raw as Record<string, unknown>), file, ErrorCode.InvalidNetworkConfig), file };
  }
  throw new CniError(ErrorCode.InvalidNetworkConfig, `no network named ${JSON.stringify(name)} in ${dir} (${EXTENSIONS.join(', ')} files)`);
}
