import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PLUGINS } from '../../scripts/plugins.mjs';

export const REPO = join(__dirname, '..', '..');
export const INSTALL_SH = join(REPO, 'scripts', 'install.sh');

/** Where an install under a test's directory puts things: never the machine's /opt/cni/bin, /usr/lib/cni-ts or systemd. */
export interface InstallTree {
  bin: string;
  lib: string;
  units: string;
}

export const installTree = (dir: string): InstallTree => ({
  bin: join(dir, 'opt', 'cni', 'bin'),
  lib: join(dir, 'usr', 'lib', 'cni-ts'),
  units: join(dir, 'etc', 'systemd', 'system'),
});

export interface ScriptOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs scripts/install.sh with `args` for the tree (its plugin directory is appended unless `args`
 * names one): the lib and unit directories come from the environment, the checkout's dist/ is used
 * as built (the tests' global setup built it; rebuilding would rewrite bundles under running tests).
 */
export function runInstall(tree: InstallTree, args: string[] = [], env: Record<string, string> = {}): ScriptOutcome {
  const withBin = args.some((a) => !a.startsWith('-')) ? args : [...args, tree.bin];
  const r = spawnSync('bash', [INSTALL_SH, ...withBin], {
    encoding: 'utf8',
    env: { ...process.env, CNI_TS_LIB_DIR: tree.lib, CNI_TS_UNIT_DIR: tree.units, CNI_TS_SKIP_BUILD: '1', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The names of scripts/plugins.mjs, in its order. */
export const PLUGIN_NAMES = PLUGINS.map((p) => p.name);

/** A systemd unit file as section → key → values (a key may repeat). */
export function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const unit: Record<string, Record<string, string[]>> = {};
  let section: Record<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = unit[header[1]] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq < 0) throw new Error(`not a unit file line: ${JSON.stringify(raw)}`);
    (section[line.slice(0, eq).trim()] ??= []).push(line.slice(eq + 1).trim());
  }
  return unit;
}
