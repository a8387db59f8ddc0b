import { CniError, ErrorCode } from '../../lib/errors';
import { type LinkInfo, linkByName, openSocketIn, setLinkUp } from '../../lib/netlink';

/** The container interface a lease lives on, as the DHCP client needs it. */
export interface ClientLink {
  /** The namespace path as the daemon opens it (with -hostprefix). */
  netns: string;
  ifname: string;
  index: number;
  mac: Buffer;
}

export const macText = (mac: Buffer): string => [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
export const macBytes = (text: string): Buffer => Buffer.from(text.split(':').map((h) => Number.parseInt(h, 16)));

/**
 * The interface `ifname` in the namespace at `netns`, or undefined when it has none of that name.
 * A namespace that is gone throws NetnsNotFoundError (lib/netns).
 */
export async function findLink(netns: string, ifname: string): Promise<LinkInfo | undefined> {
  const sock = openSocketIn(netns);
  try {
    return await linkByName(sock, ifname);
  } finally {
    sock.socket.close();
  }
}

/**
 * The interface ready for a DHCP exchange: found, with a MAC, and up (the interface plugin may
 * call its IPAM before bringing the interface up; the reference sets it up too).
 */
export async function prepareLink(netns: string, ifname: string): Promise<ClientLink> {
  const sock = openSocketIn(netns);
  try {
    const link = await linkByName(sock, ifname);
    if (!link) throw new CniError(ErrorCode.LinkFailure, `dhcp: there is no interface ${JSON.stringify(ifname)} in the network namespace ${JSON.stringify(netns)}`);
    if (!link.mac || link.mac === '00:00:00:00:00:00') {
      throw new CniError(ErrorCode.LinkFailure, `dhcp: interface ${JSON.stringify(ifname)} has no hardware address; DHCP needs an Ethernet-like interface`);
    }
    if (!link.up) await setLinkUp(sock, link, true);
    return { netns, ifname, index: link.index, mac: macBytes(link.mac) };
  } finally {
    sock.socket.close();
  }
}

/** Takes the interface down when its lease expired without renewal, as the reference does. */
export async function takeLinkDown(netns: string, ifname: string): Promise<void> {
  const sock = openSocketIn(netns);
  try {
    const link = await linkByName(sock, ifname);
    if (link?.up) await setLinkUp(sock, link, false);
  } finally {
    sock.socket.close();
  }
}
