import { NetnsNotFoundError, NotANetnsError } from '../../lib/errors';
import { type LinkInfo, formatMac } from '../../lib/netlink';
import { type ClientIdentity, type ClientTiming, type Granted, type RenewOutcome, acquire, release, renew } from './client';
import type { LeaseOwner } from './lease';
import { type ClientLink, findLink, prepareLink, takeLinkDown } from './link';

/**
 * What the lease keeper does beyond its memory and its files: look at the owner's interface, and
 * the DHCP exchanges on it. The kernel's and the wire's in the daemon (`kernelLeaseIO`), a fake in
 * unit tests.
 */
export interface LeaseIO {
  /** The owner's interface, or undefined when its namespace has none of that name; a namespace that is gone throws NetnsNotFoundError. */
  findLink(owner: LeaseOwner): Promise<Pick<LinkInfo, 'mac'> | undefined>;
  /** The owner's interface ready for an exchange: found, with a MAC, and up. */
  prepareLink(owner: LeaseOwner): Promise<ClientLink>;
  /** The owner's interface now, or undefined when it (or its namespace) is gone or carries another MAC than `mac`. */
  currentLink(owner: LeaseOwner, mac: Buffer): Promise<ClientLink | undefined>;
  takeLinkDown(link: ClientLink): Promise<void>;
  acquire(link: ClientLink, identity: ClientIdentity, options?: Parameters<typeof acquire>[3]): Promise<Granted>;
  renew(link: ClientLink, identity: ClientIdentity, held: Granted, mode: 'renew' | 'rebind'): Promise<RenewOutcome>;
  release(link: ClientLink, identity: ClientIdentity, held: Granted): void;
}

/** The daemon's: namespaces under `hostprefix` (as the plugin names them, prefixed), exchanges timed by `timing`. */
export function kernelLeaseIO(hostprefix: string, timing: ClientTiming): LeaseIO {
  const netnsOf = (owner: LeaseOwner) => hostprefix + owner.netns;
  return {
    findLink: (owner) => findLink(netnsOf(owner), owner.ifname),
    prepareLink: (owner) => prepareLink(netnsOf(owner), owner.ifname),
    async currentLink(owner, mac) {
      const netns = netnsOf(owner);
      let link: LinkInfo | undefined;
      try {
        link = await findLink(netns, owner.ifname);
      } catch (err) {
        if (err instanceof NetnsNotFoundError || err instanceof NotANetnsError) return undefined;
        throw err;
      }
      if (!link || link.mac !== formatMac(mac)) return undefined;
      return { netns, ifname: owner.ifname, index: link.index, mac };
    },
    takeLinkDown: (link) => takeLinkDown(link.netns, link.ifname),
    acquire: (link, identity, options) => acquire(link, identity, timing, options),
    renew: (link, identity, held, mode) => renew(link, identity, held, mode, timing.timeoutMs),
    release,
  };
}
