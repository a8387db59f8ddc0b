import { readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { CniError, ErrorCode } from '../errors';
import { readdirIfExists } from '../fs';
import { CURRENT_VERSION, compareVersions, goField, isTrue, matchGoKeys, NetConf, type NetConfList, NetConfListFile, parseVersion, parseWith, PluginConf } from '../types';

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

const networkFiles = (dir: string) =>
  readdirIfExists(dir)
    .filter((f) => EXTENSIONS.includes(extname(f)))
    .sort();

/** Every network file of `dir` in libcni's order (sorted by name), parsed; a file that does not parse comes back with its error. */
export function loadNetworks(dir: string): Array<LoadedNetwork | { file: string; error: string }> {
  return networkFiles(dir).map((f) => {
    const file = join(dir, f);
    try {
      return { list: readList(JSON.parse(readFileSync(file, 'utf8')), file), file };
    } catch (err) {
      return { file, error: (err as Error).message };
    }
  });
}

/** The network called `name`: files sorted by name, the first whose network name matches wins. */
export function loadNetwork(dir: string, name: string): LoadedNetwork {
  for (const f of networkFiles(dir)) {
    const file = join(dir, f);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      continue; // not ours to judge: libcni skips unreadable files when searching by name
    }
    if (goField(raw, 'name') === name) return { list: readList(raw, file), file };
  }
  throw new CniError(ErrorCode.InvalidNetworkConfig, `no network named ${JSON.stringify(name)} in ${dir} (${EXTENSIONS.join(', ')} files)`);
}

/**
 * The network libcni cached with an attachment (`config`: the list's bytes as it ran them, base64
 * as Go writes a []byte), for a DEL after the file is gone: its inlined plugins only, no plugin
 * files of a directory.
 */
export function listFromCache(config: string, source: string): NetConfList {
  const raw = JSON.parse(Buffer.from(config, 'base64').toString('utf8')) as Record<string, unknown>;
  const isList = Array.isArray(raw.plugins);
  return readList(isList ? { ...raw, loadOnlyInlinedPlugins: true } : raw, `${source}${isList ? '.conflist' : '.conf'}`);
}

/**
 * A network file as libcni reads it: a .conflist's plugins are its `plugins` followed by the
 * `<dir>/<name>/*.conf` files (unless `loadOnlyInlinedPlugins`), and its version is the highest of
 * `cniVersion` and `cniVersions` that libcni implements (1.1.0).
 */
function readList(raw: unknown, file: string): NetConfList {
  const conflist = extname(file) === '.conflist';
  const list = parseWith(NetConfListFile, conflist ? raw : asList(raw as Record<string, unknown>), file, ErrorCode.InvalidNetworkConfig);
  const inlinedOnly = isTrue(list.loadOnlyInlinedPlugins);
  if (inlinedOnly && !list.plugins) throw new CniError(ErrorCode.InvalidNetworkConfig, `${file}: "loadOnlyInlinedPlugins" is true, and there is no "plugins"`);
  const plugins = [...(list.plugins ?? []), ...(conflist && !inlinedOnly ? pluginFiles(join(dirname(file), list.name)) : [])];
  if (!plugins.length) throw new CniError(ErrorCode.InvalidNetworkConfig, `${file}: no plugins, neither in "plugins" nor in ${join(dirname(file), list.name)}/*.conf`);
  return { ...list, cniVersion: chosenVersion(list, file), plugins };
}

/** `<dir>/*.conf`, one plugin object each, in name order. */
function pluginFiles(dir: string): NetConfList['plugins'] {
  return readdirIfExists(dir)
    .filter((f) => extname(f) === '.conf')
    .sort()
    .map((f) => {
      const file = join(dir, f);
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new CniError(ErrorCode.InvalidNetworkConfig, `cannot read the plugin file ${file}: ${(err as Error).message}`);
      }
      return parseWith(PluginConf, raw, file, ErrorCode.InvalidNetworkConfig);
    });
}

function chosenVersion(list: NetConfListFile, file: string): string {
  const given = [...(list.cniVersions ?? []), ...(list.cniVersion !== undefined ? [list.cniVersion] : [])];
  for (const version of list.cniVersions ?? []) {
    if (!parseVersion(version)) throw new CniError(ErrorCode.InvalidNetworkConfig, `${file}: invalid field "cniVersions": ${JSON.stringify(version)} is not a version`);
  }
  if (list.cniVersions && list.cniVersion !== undefined && !parseVersion(list.cniVersion)) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, `${file}: invalid field "cniVersion": ${JSON.stringify(list.cniVersion)} is not a version`);
  }
  if (!list.cniVersions) {
    if (list.cniVersion === undefined) throw new CniError(ErrorCode.InvalidNetworkConfig, `${file}: no "cniVersion" (nor "cniVersions")`);
    return list.cniVersion;
  }
  const usable = given.filter((v) => parseVersion(v) && compareVersions(v, CURRENT_VERSION) <= 0).sort(compareVersions);
  if (!usable.length) {
    throw new CniError(ErrorCode.IncompatibleVersion, `${file}: none of the versions ${JSON.stringify(given)} is one this runtime speaks (up to ${CURRENT_VERSION})`);
  }
  return usable[usable.length - 1];
}
