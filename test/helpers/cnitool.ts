import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN_DIR } from './exec-plugin';
import type { TestNetns } from './netns';
import { runtimePlace } from './runtime-place';
import { baseEnv } from './base-env';

export interface CnitoolOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  json: any;
}

/**
 * Runs bin/cnitool inside `host` with the conflists of `<dir>/net.d`, its cache in `<dir>/cache`
 * and the plugins' state in `<dir>/state`; `env` adds to or overrides that environment.
 */
export function runCnitool(host: TestNetns, dir: string, args: string[], env: Record<string, string> = {}, binDir = BIN_DIR): CnitoolOutcome {
  const place = runtimePlace(host.name);
  const command = [...place.prefix, join(binDir, 'cnitool'), ...args];
  const r = spawnSync(command[0], command.slice(1), {
    cwd: '/',
    encoding: 'utf8',
    env: { ...baseEnv(), ...place.env, NETCONFPATH: join(dir, 'net.d'), CNI_CACHE_DIR: join(dir, 'cache'), CNI_TS_STATE_DIR: join(dir, 'state'), ...env },
  });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

const filesIn = (path: string) => (existsSync(path) ? readdirSync(path) : []);

/** Address files of host-local's store for `network` under `dataDir` (not its lock or last_reserved_ip). */
export const ipamFiles = (dataDir: string, network: string) => filesIn(join(dataDir, network)).filter((f) => f !== 'lock' && !f.startsWith('last_reserved_ip'));

/** libcni cache entries. */
export const cacheFiles = (dir: string) => filesIn(join(dir, 'cache', 'results'));

/** Attachment records the plugins keep in `<dir>/state`, over every component. */
export const stateRecords = (dir: string) =>
  filesIn(join(dir, 'state')).flatMap((component) =>
    filesIn(join(dir, 'state', component, 'attachments')).flatMap((network) =>
      filesIn(join(dir, 'state', component, 'attachments', network)).map((f) => `${component}/${network}/${f}`),
    ),
  );

/** The host's veths except the test topology's uplink. */
export const hostVeths = (host: TestNetns) => host.ipJson<Array<{ ifname: string }>>('link', 'show', 'type', 'veth').filter((l) => l.ifname !== 'uplink0');
