import { invalidField as invalid } from '../errors';
import { linkByIndex, linkByName, listRoutes, type LinkInfo, type RtNetlinkSocket } from '../netlink';
import { validateInterfaceName } from '../skel/validate';

/** Where the plugins that put a link on a parent NIC (macvlan, ipvlan, vlan) find that parent. */
export interface MasterChoice {
  /** The parent interface; undefined: the interface of the default route. */
  master?: string;
  /** The master is in the container's namespace, not the host's. */
  linkInContainer: boolean;
  /** The MTU asked for the new link, which must not exceed the master's. */
  mtu?: number;
}

/** The config's `master`, checked as an interface name (code 7 naming the field); empty is unset. */
export function masterField(master: string | undefined): string | undefined {
  if (!master) return undefined;
  try {
    validateInterfaceName(master);
  } catch {
    throw invalid('master', `${JSON.stringify(master)} is not a valid interface name`);
  }
  return master;
}

/** The config's `mtu`: 0 or absent is unset (the master's), negative is refused (code 7). */
export function mtuField(mtu: number | undefined): number | undefined {
  if (mtu !== undefined && mtu < 0) throw invalid('mtu', `${mtu} is negative (0 or absent: the master's MTU)`);
  return mtu || undefined;
}

/** The interface of the first default route of the main table, IPv4 first, as the reference picks it. */
export async function defaultRouteInterface(sock: RtNetlinkSocket): Promise<LinkInfo | undefined> {
  for (const family of [4, 6] as const) {
    const route = (await listRoutes(sock, family)).find((r) => r.dst.length === 0 && r.linkIndex);
    if (route) return linkByIndex(sock, route.linkIndex!);
  }
  return undefined;
}

/**
 * The master the link goes on, looked up through `sock` (the host's, or the container's with
 * linkInContainer): the configured one, or the default route's; and the MTU asked for must not
 * exceed the master's. Refused with code 7, naming the field, before anything is created.
 */
export async function resolveMaster(choice: MasterChoice, sock: RtNetlinkSocket): Promise<LinkInfo> {
  const where = choice.linkInContainer ? 'the container namespace (linkInContainer)' : 'the host namespace';
  let master: LinkInfo | undefined;
  if (choice.master) {
    master = await linkByName(sock, choice.master);
    if (!master) throw invalid('master', `no interface ${JSON.stringify(choice.master)} in ${where}`);
  } else {
    master = await defaultRouteInterface(sock);
    if (!master) throw invalid('master', `not set, and ${where} has no default route to take it from`);
  }
  if (choice.mtu !== undefined && master.mtu !== undefined && choice.mtu > master.mtu) {
    throw invalid('mtu', `${choice.mtu} is above the MTU of master ${JSON.stringify(master.name)} (${master.mtu})`);
  }
  return master;
}
