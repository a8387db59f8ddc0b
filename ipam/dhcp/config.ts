import * as z from 'zod/mini';
import { invalidField } from '../../lib/errors';
import type { CmdArgs } from '../../lib/skel';
import { NetConf, lenientString, parseWith } from '../../lib/types';
import { providedOptions, requestedOptions } from './options';

/** Where the reference's plugin and daemon meet unless `ipam.daemonSocketPath` says otherwise. */
export const DEFAULT_SOCKET_PATH = '/run/cni/dhcp.sock';

// Go decodes a JSON null into an empty value; the reference accepts it, so do we.
const opt = z.nullish;

const DhcpConf = z.extend(NetConf, {
  ipam: z.looseObject({
    type: opt(z.string()),
    daemonSocketPath: opt(z.string()),
    provide: opt(z.array(z.looseObject({ option: z.string(), value: opt(z.string()), fromArg: opt(z.string()) }))),
    request: opt(z.array(z.looseObject({ option: opt(z.string()), skipDefault: opt(z.boolean()) }))),
    priority: opt(z.int().check(z.nonnegative())),
  }),
});

/** The dhcp plugin's config: where its daemon listens and what the daemon's client sends for it. */
export interface DhcpConfig {
  cniVersion: string;
  network: string;
  socketPath: string;
  /** Options sent with every DISCOVER and REQUEST (`ipam.provide`), by code. */
  provide: Map<number, Buffer>;
  /** The parameter request list (option 55), empty for none. */
  request: number[];
  /** The metric of every route of the result (`ipam.priority`); 0 leaves routes without one. */
  priority: number;
}

export function parseConfig(cmd: CmdArgs): DhcpConfig {
  const conf = parseWith(DhcpConf, cmd.config, 'dhcp config');
  return {
    cniVersion: conf.cniVersion,
    network: conf.name,
    socketPath: checkSocketPath(conf.ipam.daemonSocketPath),
    provide: providedOptions(conf.ipam.provide ?? [], cmd.args),
    request: requestedOptions(conf.ipam.request ?? []),
    priority: conf.ipam.priority ?? 0,
  };
}

/** The daemon's socket as DEL reads it: `ipam.daemonSocketPath` when it is a usable path, else the default. */
export function socketPathOf(config: unknown): string {
  const path = lenientString(config, 'ipam', 'daemonSocketPath');
  return path?.startsWith('/') ? path : DEFAULT_SOCKET_PATH;
}

function checkSocketPath(path: string | null | undefined): string {
  if (!path) return DEFAULT_SOCKET_PATH;
  if (!path.startsWith('/')) throw invalidField('ipam.daemonSocketPath', `expected an absolute path, got ${JSON.stringify(path)}`);
  // sockaddr_un holds 108 bytes with the terminating NUL
  if (Buffer.byteLength(path) > 107) throw invalidField('ipam.daemonSocketPath', `${JSON.stringify(path)} is longer than a unix socket path can be (107 bytes)`);
  return path;
}
