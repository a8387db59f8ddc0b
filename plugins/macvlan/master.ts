import { invalidField as invalid } from '../../lib/errors';
import { linkByIndex, linkByName, listRoutes, type LinkInfo, type RtNetlinkSocket } from '../../lib/netlink';
import type { MacvlanConfig } from './config';

/** The interface of the first default route of the main table, IPv4 first, as the reference picks it. */
export async function defaultRouteInterface(sock: RtNetlinkSocket): Promise<LinkInfo | undefined> {
  for (const family of [4, 6] as const) {
    const route = (await listRoutes(sock, family)).find((r) => r.dst.length === 0 && r.linkIndex);
    if (route) return linkByIndex(sock, route.linkIndex!);
  }
  return undefined;
}

/**
 * The master the macvlan goes on, looked up through `sock` (the host's, or the container's with
 * linkInContainer): the configured one, or the default route's; and the MTU asked for must not
 * exceed the master's. Refused with code 7, naming the field, before anything is created.
 */
export async function resolveMaster(conf: MacvlanConfig, sock: RtNetlinkSocket): Promise<LinkInfo> {
  const where = conf.linkInContainer ? 'the container namespace (linkInContainer)' : 'the host namespace';
  let master: LinkInfo | undefined;
  if (conf.master) {
    master = await linkByName(sock, conf.master);
    if (!master) throw invalid('master', `no interface ${JSON.stringify(conf.master)} in ${where}`);
  } else {
    master = await defaultRouteInterface(sock);
    if (!master) throw invalid('master', `not set, and ${where} has no default route to take it from`);
  }
  if (conf.mtu !== undefined && master.mtu !== undefined && conf.mtu > master.mtu) {
    throw invalid('mtu', `${conf.mtu} is above the MTU of master ${JSON.stringify(master.name)} (${master.mtu})`);
  }
  return master;
}
