import { constants } from 'node:os';
import { NetlinkError } from '../errors';
import { withNetns } from '../netns';
import { createRtNetlink, type RtNetlinkSocket } from './package';

/**
 * The `netlink` package rejects with a bare Error("Request rejected: ENOENT"); this is the one
 * place that turns that into NetlinkError{errno} so nothing above matches on messages.
 */
export async function call<T>(operation: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    const match = /Request rejected: (E[A-Z0-9]+|\d+)/.exec((err as Error)?.message ?? '');
    if (!match) throw err;
    const errno = /^\d+$/.test(match[1]) ? Number(match[1]) : ((constants.errno as Record<string, number>)[match[1]] ?? 0);
    throw new NetlinkError(errno, operation);
  }
}

/** An rtnetlink socket in the host namespace (the one the plugin runs in). */
export function openHostSocket(): RtNetlinkSocket {
  return createRtNetlink();
}

/**
 * An rtnetlink socket created inside the namespace at `netnsPath`: the kernel binds a socket to the
 * namespace it is created in, so every later call on it acts there without switching again.
 */
export function openSocketIn(netnsPath: string): RtNetlinkSocket {
  return withNetns(netnsPath, () => createRtNetlink());
}

export type { RtNetlinkSocket };
