import { closeSync, openSync } from 'node:fs';
import { CniError, ErrorCode } from '../errors';
import { checkDelegate, delegate, delegateDel } from '../invoke/delegate';
import { deleteLink, linkByName, openHostSocket, openSocketIn, type LinkInfo, type RtNetlinkSocket } from '../netlink';
import { createLink, type NewLinkSpec } from '../netlink/create-link';
import { linkDetails, type LinkDetails } from '../netlink/link-details';
import type { CmdArgs, DelArgs } from '../skel';
import type { DNS, IPConfig, Result, Route } from '../types';
import { UndoStack } from '../undo';
import { addressContainerLink, checkContainerLink, checkPrevious, configureContainerLink, containerLinkResult, deleteContainerLink, type LinkSetup } from './container-link';
import { resolveMaster, type MasterChoice } from './master';
import { teardown } from './teardown';
import { requireFreeName } from './veth';

/**
 * The verbs of the interface plugins that create the container's link themselves, in one netlink
 * message: on a master NIC (macvlan, ipvlan, vlan) or on its own (dummy). A plugin gives its kind's
 * attributes and checks; the steps around them are these.
 */

/** What an ADD makes. */
export interface NewContainerLink {
  cniVersion: string;
  /** The link's kind and attributes (IFLA_INFO_DATA, MTU, MAC); name, parent and namespace are filled here. */
  link: Omit<NewLinkSpec, 'name' | 'parentIndex' | 'netnsFd'>;
  /** The master the link goes on (resolved as resolveMaster does, refused with code 7); none: a link of its own, made in the container. */
  master?: MasterChoice;
  ipamType?: string;
  /** Addresses and routes from prevResult instead of IPAM (a chained ipvlan). */
  chained?: { ips: IPConfig[]; routes?: Route[] };
  /** The result's dns: the config's; with `dnsFromIpam`, IPAM's instead (dummy, as the reference). */
  dns?: DNS;
  dnsFromIpam?: boolean;
  addressing: LinkSetup;
}

/**
 * ADD: the config's IPAM plugin and the master are checked and CNI_IFNAME must be free in the
 * container before anything is made; then the link is born in the container under its final name,
 * IPAM runs (or prevResult's addresses are taken) and the reference's ConfigureIface is applied.
 * A failure undoes it all: the reservation, then the link.
 */
export async function addCreatedLink(cmd: CmdArgs, spec: NewContainerLink): Promise<Result> {
  if (spec.ipamType) await checkDelegate(spec.ipamType, cmd);
  const host = openHostSocket();
  const ctr = openSocketIn(cmd.netns);
  try {
    const master = spec.master && (await resolveMaster(spec.master, spec.master.linkInContainer ? ctr : host));
    await requireFreeName(ctr, { netnsPath: cmd.netns, ifname: cmd.ifname });
    return await new UndoStack().run(async (undo) => {
      const link = await createInContainer(host, ctr, cmd, { ...spec.link, name: cmd.ifname, parentIndex: master?.index }, !master || spec.master!.linkInContainer);
      undo.push(`${spec.link.kind} ${link.name}`, () => deleteLink(ctr, link.index));
      const addressing = spec.chained
        ? await configureContainerLink(ctr, cmd, link, spec.chained, spec.addressing)
        : await addressContainerLink(ctr, cmd, link, spec.ipamType, undo, spec.addressing);
      return containerLinkResult(spec.cniVersion, cmd, link, addressing, spec.dnsFromIpam ? addressing.dns : spec.dns);
    });
  } finally {
    host.socket.close();
    ctr.socket.close();
  }
}

/**
 * Creates the link born in the container under its final name, in one message: from the host's
 * socket with the container's namespace as target (its master is in the host), or from the
 * container's own socket (`fromContainer`: a master there, linkInContainer, or no master at all).
 */
async function createInContainer(host: RtNetlinkSocket, ctr: RtNetlinkSocket, cmd: CmdArgs, spec: NewLinkSpec, fromContainer: boolean): Promise<LinkInfo> {
  if (fromContainer) {
    await createLink(ctr, spec);
  } else {
    const netnsFd = openSync(cmd.netns, 'r');
    try {
      await createLink(host, { ...spec, netnsFd });
    } finally {
      closeSync(netnsFd);
    }
  }
  const link = await linkByName(ctr, spec.name);
  if (!link) throw new CniError(ErrorCode.LinkFailure, `${spec.kind} ${JSON.stringify(spec.name)} vanished right after creation`);
  return link;
}

/** What CHECK compares, beyond prevResult's interface, addresses and routes. */
export interface CreatedLinkCheck {
  ipamType?: string;
  kind: string;
  /** The master the link must sit on; none: no master is checked (dummy; ipvlan without a configured one). */
  master?: MasterChoice;
  /**
   * A link of this kind made on a master of the same kind sits on that master's own parent (the
   * kernel stacks macvlans and ipvlans on the lower device, never vlans).
   */
  stacksOnLower?: boolean;
  /** The kind's own checks on the link (mode, id, MTU...): what is wrong, or undefined. */
  inspect?: (link: LinkDetails) => string | undefined;
}

const checkFailed = (what: string) => new CniError(ErrorCode.CheckFailed, what);

/**
 * CHECK as the reference's: IPAM's CHECK; prevResult names the interface in this sandbox; the
 * master exists; the link is of its kind with prevResult's MAC, addresses and routes; the kind's
 * own checks. Ours also checks that the link sits on the configured master.
 */
export async function checkCreatedLink(cmd: CmdArgs, spec: CreatedLinkCheck): Promise<void> {
  const { prev, entry } = await checkPrevious(cmd, spec.ipamType);
  const host = openHostSocket();
  const ctr = openSocketIn(cmd.netns);
  try {
    const masterSock = spec.master?.linkInContainer ? ctr : host;
    const master =
      spec.master &&
      (await resolveMaster(spec.master, masterSock).catch((err: Error) => {
        throw checkFailed(`the master is not usable: ${err.message}`);
      }));
    // the kind's own checks first: a link that is down has lost its routes, and saying so is the better news
    const details = await linkDetails(ctr, { name: cmd.ifname });
    const problem = details?.kind === spec.kind ? spec.inspect?.(details) : undefined;
    if (problem) throw checkFailed(`container ${spec.kind} ${JSON.stringify(cmd.ifname)} ${problem}`);
    await checkContainerLink(ctr, cmd, prev, { kind: spec.kind, mac: entry.mac });
    if (!master || !details) return;
    // a master in the host shows through IFLA_LINK_NETNSID; in the same namespace there is none
    const sameNamespace = details.parentNetnsId === undefined;
    const lower = spec.stacksOnLower && master.kind === spec.kind ? (await linkDetails(masterSock, { index: master.index }))?.parentIndex : master.index;
    if (details.parentIndex !== lower || sameNamespace !== spec.master!.linkInContainer) {
      throw checkFailed(`container ${spec.kind} ${JSON.stringify(cmd.ifname)} is not on master ${JSON.stringify(master.name)}`);
    }
  } finally {
    host.socket.close();
    ctr.socket.close();
  }
}

/**
 * DEL, best effort and idempotent, from the IPAM type and the names alone: the reservation, then
 * the link in the container. A missing namespace or link is success (the link went with the
 * namespace; nothing of it is on the host); a link of another kind is left alone.
 */
export async function delCreatedLink(cmd: DelArgs, kind: string): Promise<void> {
  await teardown([
    ['release addresses (IPAM)', () => delegateDel(cmd)],
    [`delete ${kind}`, () => deleteContainerLink(cmd.netns, cmd.ifname, kind)],
  ]);
}

/**
 * STATUS: code 50 when the master an ADD would use is not in the host namespace (none given, or
 * one in containers with linkInContainer: nothing to look at from here), then IPAM's STATUS.
 */
export async function statusOfCreatedLink(cmd: CmdArgs, plugin: string, ipamType: string | undefined, master?: MasterChoice): Promise<void> {
  if (master && !master.linkInContainer) {
    const host = openHostSocket();
    try {
      await resolveMaster(master, host);
    } catch (err) {
      if (err instanceof CniError) throw new CniError(ErrorCode.PluginNotAvailable, `${plugin} cannot add interfaces: ${err.message}`);
      throw err;
    } finally {
      host.socket.close();
    }
  }
  if (ipamType) await delegate(ipamType, 'STATUS', cmd);
}
