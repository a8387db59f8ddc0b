import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { CniError, Errno, ErrorCode, NetlinkError } from '../errors';
import { createVethPair, deleteLink, linkByName, openHostSocket, withLinkIn, type LinkInfo, type RtNetlinkSocket } from '../netlink';
import { netnsExists } from '../netns';

export interface VethPair {
  host: LinkInfo;
  container: LinkInfo;
}

const NAME_ATTEMPTS = 10;

/** Refuses a container interface name that is taken, e.g. by a live attachment's ADD repeated. */
export async function requireFreeName(ctr: RtNetlinkSocket, spec: { netnsPath: string; ifname: string }): Promise<void> {
  if (await linkByName(ctr, spec.ifname)) {
    throw new CniError(ErrorCode.LinkFailure, `container interface ${JSON.stringify(spec.ifname)} already exists in ${JSON.stringify(spec.netnsPath)}`);
  }
}

/**
 * Creates the pair from the host socket with the peer born inside the container namespace under
 * its final name (one netlink message, no move or rename step), host end named veth<8 hex>.
 */
export async function createVeth(host: RtNetlinkSocket, ctr: RtNetlinkSocket, spec: { netnsPath: string; ifname: string; mtu?: number; mac?: string }): Promise<VethPair> {
  await requireFreeName(ctr, spec);
  const netnsFd = openSync(spec.netnsPath, 'r');
  try {
    for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
      const hostName = `veth${randomBytes(4).toString('hex')}`;
      try {
        await createVethPair(host, { hostName, peerName: spec.ifname, peerNetnsFd: netnsFd, mtu: spec.mtu, peerMac: spec.mac });
      } catch (err) {
        // EEXIST: the random host name is taken (the peer name was checked above); try another
        if (err instanceof NetlinkError && err.errno === Errno.EEXIST && !(await linkByName(ctr, spec.ifname))) continue;
        throw err;
      }
      const hostLink = await linkByName(host, hostName);
      const ctrLink = await linkByName(ctr, spec.ifname);
      if (!hostLink || !ctrLink) throw new CniError(ErrorCode.LinkFailure, `veth pair ${hostName}/${spec.ifname} vanished right after creation`);
      return { host: hostLink, container: ctrLink };
    }
  } finally {
    closeSync(netnsFd);
  }
  throw new CniError(ErrorCode.LinkFailure, `could not find a free host-side veth name in ${NAME_ATTEMPTS} attempts`);
}

/** Deletes a host-side veth by name if it is still there (its namespace may be kept alive elsewhere). */
export async function deleteHostVeth(name: string): Promise<void> {
  const host = openHostSocket();
  try {
    const link = await linkByName(host, name);
    if (link?.kind === 'veth') await deleteLink(host, link.index);
  } finally {
    host.socket.close();
  }
}

/**
 * DEL of an attachment's veth pair: deleted from inside the container when its namespace is still
 * there, else by the host end's recorded name (a namespace kept alive elsewhere keeps the pair;
 * normally it went with the namespace). Missing links are success.
 */
export async function deleteContainerVeth(netnsPath: string, ifname: string, hostVeth: string | undefined): Promise<void> {
  if (netnsExists(netnsPath)) {
    await withLinkIn(netnsPath, ifname, async (ctr, link) => {
      if (link) await deleteLink(ctr, link.index);
    });
  } else if (hostVeth) {
    await deleteHostVeth(hostVeth);
  }
}
