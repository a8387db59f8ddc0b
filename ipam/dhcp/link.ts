import { CniError, ErrorCode } from '../../lib/errors';
import { type LinkInfo, macToBytes, setLinkUp, withLinkIn } from '../../lib/netlink';

/** The container interface a lease lives on, as the DHCP client needs it. */
export interface ClientLink {
  /** The namespace path as the daemon opens it (with -hostprefix). */
  netns: string;
  ifname: string;
  index: number;
  mac: Buffer;
}

/**
 * The interface `ifname` in the namespace at `netns`, or undefined when it has none of that name.
 * A namespace that is gone throws NetnsNotFoundError (lib/netns).
 */
export const findLink = (netns: string, ifname: string): Promise<LinkInfo | undefined> => withLinkIn(netns, ifname, async (_sock, link) => link);

/**
 * The interface ready for a DHCP exchange: found, with a MAC, and up (the interface plugin may
 * call its IPAM before bringing the interface up; the reference sets it up too).
 */
export function prepareLink(netns: string, ifname: string): Promise<ClientLink> {
  return withLinkIn(netns, ifname, async (sock, link) => {
    if (!link) throw new CniError(ErrorCode.LinkFailure, `dhcp: there is no interface ${JSON.stringify(ifname)} in the network namespace ${JSON.stringify(netns)}`);
    if (!link.mac || link.mac === '00:00:00:00:00:00') {
      throw new CniError(ErrorCode.LinkFailure, `dhcp: interface ${JSON.stringify(ifname)} has no hardware address; DHCP needs an Ethernet-like interface`);
    }
    if (!link.up) await setLinkUp(sock, link, true);
    return { netns, ifname, index: link.index, mac: macToBytes(link.mac) };
  });
}

/** Takes the interface down when its lease expired without renewal, as the reference does. */
export const takeLinkDown = (netns: string, ifname: string): Promise<void> =>
  withLinkIn(netns, ifname, async (sock, link) => {
    if (link?.up) await setLinkUp(sock, link, false);
  });
