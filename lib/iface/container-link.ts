import { CniError, ErrorCode } from '../errors';
import { delegate } from '../invoke/delegate';
import { log } from '../log';
import { parseIP, type IP } from '../ip';
import { deleteLink, linkByName, setLinkUp, withLinkIn, type LinkInfo, type RtNetlinkSocket } from '../netlink';
import { withNetns, netnsExists } from '../netns';
import type { CallArgs, CmdArgs } from '../skel';
import { writeSysctl } from '../sysctl';
import type { DNS, IPConfig, Result, Route } from '../types';
import type { UndoStack } from '../undo';
import { addressingOf } from './addressing';
import { checkContainer, configureContainer, type InterfaceSetup } from './configure-interface';
import { ipamAdd } from './ipam';

// The interface plugins whose only link is the container's (macvlan, ipvlan, vlan, dummy,
// host-device, tap, as the reference's): once that link is in the container, these steps are the
// same for all of them.

/** The gateway per family as IPAM gave it (the first of each family), none when IPAM gave none. */
export function ipamGateways(ips: IPConfig[]): (family: 4 | 6) => IP | undefined {
  const gateways = ips.flatMap((ip) => (ip.gateway ? [parseIP(ip.gateway)] : [])).filter((gw): gw is IP => gw !== undefined);
  return (family) => gateways.find((gw) => gw.family === family);
}

export interface ConfiguredIpam {
  /** IPAM's addresses, each on interface 0 (the container link), gateways as IPAM gave them. */
  ips?: IPConfig[];
  routes?: Route[];
  /** IPAM's dns (the reference's dummy puts it in its result; the others put the config's). */
  dns?: DNS;
}

/** How a link made for the container is set up (macvlan and tap set arpNotify). */
export interface LinkSetup extends Pick<InterfaceSetup, 'enableDad' | 'arpNotify'> {
  /** net.ipv6.conf.<if>.ndisc_notify=1 (macvlan sets it). */
  ndiscNotify?: boolean;
}

/**
 * With IPAM: IPAM ADD (released again by `undo` if a later step fails), then the reference's
 * ipam.ConfigureIface on the link: addresses, up, IPAM's routes, a route without gw through IPAM's
 * gateway of its family or on-link when there is none. Without IPAM: the link is only set up.
 */
export async function addressContainerLink(
  ctr: RtNetlinkSocket,
  cmd: CmdArgs,
  link: LinkInfo,
  ipamType: string | undefined,
  undo: UndoStack,
  options: LinkSetup,
): Promise<ConfiguredIpam> {
  if (!ipamType) {
    await setLinkUp(ctr, link, true);
    return {};
  }
  const ipam = (await ipamAdd(ipamType, cmd, undo))!;
  const configured = await configureContainerLink(ctr, cmd, link, { ips: ipam.ips!, routes: ipam.routes }, options);
  return { ...configured, dns: ipam.dns };
}

/**
 * The reference's ipam.ConfigureIface on the link with addresses and routes given (IPAM's, or a
 * chained ipvlan's prevResult's): each address on interface 0, then as addressContainerLink.
 */
export async function configureContainerLink(
  ctr: RtNetlinkSocket,
  cmd: CmdArgs,
  link: LinkInfo,
  given: { ips: IPConfig[]; routes?: Route[] },
  options: LinkSetup,
): Promise<ConfiguredIpam> {
  const ips = given.ips.map((ip) => ({ ...ip, interface: 0 }));
  if (options.ndiscNotify) withNetns(cmd.netns, () => writeSysctl(['net', 'ipv6', 'conf', link.name, 'ndisc_notify'], '1'));
  await configureContainer(ctr, cmd.netns, link, addressingOf(ips), given.routes ?? [], {
    enableDad: options.enableDad,
    arpNotify: options.arpNotify,
    routeGateway: ipamGateways(ips),
  });
  return { ips, routes: given.routes };
}

/** The result of these plugins: the container link alone (interface 0), IPAM's addresses and routes, the config's DNS. */
export function containerLinkResult(cniVersion: string, cmd: CmdArgs, link: Pick<LinkInfo, 'name' | 'mac'>, addressing: ConfiguredIpam, dns: DNS | undefined): Result {
  return {
    cniVersion,
    interfaces: [{ name: link.name, mac: link.mac, sandbox: cmd.netns }],
    ...(addressing.ips ? { ips: addressing.ips } : {}),
    ...(addressing.routes ? { routes: addressing.routes } : {}),
    dns,
  };
}

const checkFailed = (what: string) => new CniError(ErrorCode.CheckFailed, what);

/** CHECK's first steps, as the reference's: IPAM's CHECK, then prevResult, which must name the interface in this sandbox. */
export async function checkPrevious(cmd: CmdArgs, ipamType: string | undefined): Promise<{ prev: Result; entry: NonNullable<Result['interfaces']>[number] }> {
  if (ipamType) await delegate(ipamType, 'CHECK', cmd);
  const prev = cmd.prevResult;
  if (!prev) throw new CniError(ErrorCode.InvalidNetworkConfig, 'CHECK needs "prevResult" (the result of ADD)');
  const entry = (prev.interfaces ?? []).find((i) => i.name === cmd.ifname && i.sandbox === cmd.netns);
  if (!entry) throw checkFailed(`prevResult has no interface ${JSON.stringify(cmd.ifname)} in sandbox ${JSON.stringify(cmd.netns)}`);
  return { prev, entry };
}

/**
 * The container link against prevResult: it is there, of `kind` (false: any), with prevResult's MAC
 * when `checkMac`, every address of prevResult on it, and prevResult's routes in the namespace.
 * Returns the link for the plugin's own checks.
 */
export async function checkContainerLink(ctr: RtNetlinkSocket, cmd: CmdArgs, prev: Result, expected: { kind: string | false; mac?: string }): Promise<LinkInfo> {
  const ips = prev.ips ?? [];
  await checkContainer(ctr, cmd, ips, prev.routes ?? [], { kind: expected.kind, routeGateway: ipamGateways(ips) });
  const link = (await linkByName(ctr, cmd.ifname))!;
  if (expected.mac && link.mac !== expected.mac.toLowerCase()) {
    throw checkFailed(`container interface ${JSON.stringify(cmd.ifname)} has MAC ${link.mac}, not ${expected.mac} as in prevResult`);
  }
  return link;
}

/**
 * DEL of a link the plugin made in the container: deleted when the namespace and a link of that
 * name and `kind` are there. A missing namespace or link is success; a link of another kind is not
 * this plugin's (another attachment's, made after ours went) and stays, with a warning.
 */
export async function deleteContainerLink(netnsPath: string, ifname: string, kind: string): Promise<void> {
  if (!netnsPath || !netnsExists(netnsPath)) return;
  await withLinkIn(netnsPath, ifname, async (ctr, link) => {
    if (!link) return;
    if (link.kind !== kind) {
      log.warn(`DEL: leaving ${JSON.stringify(ifname)} alone: it is a ${link.kind ?? 'device'}, not a ${kind}`, { netns: netnsPath });
      return;
    }
    await deleteLink(ctr, link.index);
  });
}

/** withLinkIn for a step that needs the container interface: 110 naming it when it is not in the namespace. */
export const withContainerLink = <T>(cmd: Pick<CallArgs, 'netns' | 'ifname'>, fn: (sock: RtNetlinkSocket, link: LinkInfo) => Promise<T>): Promise<T> =>
  withLinkIn(cmd.netns, cmd.ifname, (sock, link) => {
    if (!link) throw new CniError(ErrorCode.LinkFailure, `interface ${JSON.stringify(cmd.ifname)} not found in ${JSON.stringify(cmd.netns)}`);
    return fn(sock, link);
  });
