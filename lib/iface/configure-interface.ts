import { CniError, Errno, ErrorCode, NetlinkError } from '../errors';
import { formatIP, networkAddress, parseIP, parsePrefix, type IP } from '../ip';
import { addAddress, addRoute, linkByName, listAddresses, listRoutes, setLinkUp, type LinkInfo, type RtNetlinkSocket } from '../netlink';
import { withNetns } from '../netns';
import type { CmdArgs } from '../skel';
import { writeSysctl } from '../sysctl';
import type { IPConfig, Result, Route } from '../types';
import { addressingOf, type Addressing } from './addressing';

export interface InterfaceSetup {
  /** IPv6 duplicate address detection; off, addresses are added with IFA_F_NODAD and usable at once. */
  enableDad: boolean;
  /** net.ipv4.conf.<ifname>.arp_notify=1 (the reference's bridge sets it; its ptp does not). */
  arpNotify?: boolean;
  /** Runs once the addresses are on the link and it is up, before IPAM's routes (ptp's own routes go here). */
  beforeRoutes?: () => Promise<void>;
  /**
   * The gateway a route without gw goes through, per family; when absent, the family's addressing
   * gateway (IPAM's, or the subnet's first address). macvlan, host-device and tap pass IPAM's
   * gateways only, as the reference's ConfigureIface does: without one the route is on-link.
   */
  routeGateway?: (family: 4 | 6) => IP | undefined;
}

/** The gateway of a route without gw: `override` when given, else the family's addressing gateway. */
function gatewayFor(family: 4 | 6, addressing: Addressing[], override?: (family: 4 | 6) => IP | undefined): IP | undefined {
  return override ? override(family) : addressing.find((a) => a.ip.family === family)?.gateway;
}

/**
 * Addresses, link up, routes, in the container, as the reference's ipam.ConfigureIface: with an
 * IPv6 address, IPv6 on for lo and the interface and keep_addr_on_down; a route without gw goes via
 * its family's gateway.
 */
export async function configureContainer(
  sock: RtNetlinkSocket,
  netnsPath: string,
  link: LinkInfo,
  addressing: Addressing[],
  routes: Route[],
  setup: InterfaceSetup,
): Promise<void> {
  const { enableDad } = setup;
  withNetns(netnsPath, () => {
    if (setup.arpNotify) writeSysctl(['net', 'ipv4', 'conf', link.name, 'arp_notify'], '1');
    if (addressing.some((a) => a.ip.family === 6)) {
      writeSysctl(['net', 'ipv6', 'conf', 'lo', 'disable_ipv6'], '0');
      writeSysctl(['net', 'ipv6', 'conf', link.name, 'disable_ipv6'], '0');
      writeSysctl(['net', 'ipv6', 'conf', link.name, 'keep_addr_on_down'], '1');
      writeSysctl(['net', 'ipv6', 'conf', link.name, 'accept_dad'], enableDad ? '1' : '0');
      if (enableDad) writeSysctl(['net', 'ipv6', 'conf', link.name, 'enhanced_dad'], '1');
    }
  });
  for (const a of addressing) await addAddress(sock, link.index, a.ip, a.subnet.length, !enableDad);
  await setLinkUp(sock, link, true);
  await setup.beforeRoutes?.();
  for (const route of routes) {
    const dst = parsePrefix(route.dst)!;
    const gateway = route.gw ? parseIP(route.gw) : gatewayFor(dst.ip.family, addressing, setup.routeGateway);
    try {
      await addRoute(sock, {
        dst: { ip: networkAddress(dst), length: dst.length },
        gw: gateway,
        linkIndex: link.index,
        priority: route.priority,
        table: route.table,
        scope: route.scope,
        mtu: route.mtu,
      });
    } catch (err) {
      // the same route twice (IPAM and isDefaultGateway both asking for it) is one route
      if (!(err instanceof NetlinkError && err.errno === Errno.EEXIST)) throw err;
    }
  }
  // as the reference's ConfigureIface: only when IPv6 addresses were configured, not for the
  // link-local address alone (its DAD would hold every IPv4-only ADD for a second or two)
  if (enableDad && addressing.some((a) => a.ip.family === 6)) await waitForDad(sock, link);
}

/** With DAD on, wait (bounded) until no address is tentative, so the result is usable. */
async function waitForDad(sock: RtNetlinkSocket, link: LinkInfo): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await listAddresses(sock, link.index)).some((a) => a.tentative)) {
    if (Date.now() > deadline) throw new CniError(ErrorCode.LinkFailure, `IPv6 duplicate address detection on ${JSON.stringify(link.name)} did not finish in 5 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const checkFailed = (what: string) => new CniError(ErrorCode.CheckFailed, what);

/** prevResult's addresses of the container interface (entries without an interface index count too). */
export function containerIPs(cmd: CmdArgs, prev: Result): IPConfig[] {
  const index = (prev.interfaces ?? []).findIndex((i) => i.name === cmd.ifname && i.sandbox === cmd.netns);
  return (prev.ips ?? []).filter((ip) => ip.interface === undefined || ip.interface === index);
}

export interface ContainerExpectations {
  /** The link's kind (IFLA_INFO_KIND): "veth" unless given; false accepts any (host-device moves in whatever it finds). */
  kind?: string | false;
  /** As InterfaceSetup.routeGateway: what a route without gw was installed through. */
  routeGateway?: (family: 4 | 6) => IP | undefined;
}

/** CHECK of the container side: the interface is of its kind (a veth unless told), has prevResult's addresses, and the routes are there. */
export async function checkContainer(ctr: RtNetlinkSocket, cmd: CmdArgs, ips: IPConfig[], expectedRoutes: Route[], expected: ContainerExpectations = {}): Promise<void> {
  const link = await linkByName(ctr, cmd.ifname);
  if (!link) throw checkFailed(`container interface ${JSON.stringify(cmd.ifname)} is missing from ${JSON.stringify(cmd.netns)}`);
  const kind = expected.kind ?? 'veth';
  if (kind !== false && link.kind !== kind) throw checkFailed(`container interface ${JSON.stringify(cmd.ifname)} is a ${link.kind ?? 'device'}, not a ${kind}`);
  const present = await listAddresses(ctr, link.index);
  for (const ip of ips) {
    const want = parsePrefix(ip.address)!;
    if (!present.some((a) => a.ip.family === want.ip.family && a.ip.value === want.ip.value && a.prefixLength === want.length)) {
      throw checkFailed(`address ${ip.address} is missing from ${JSON.stringify(cmd.ifname)}`);
    }
  }
  const addressing = addressingOf(ips);
  const routesByFamily = { 4: await listRoutes(ctr, 4, true), 6: await listRoutes(ctr, 6, true) };
  for (const route of expectedRoutes) {
    const dst = parsePrefix(route.dst)!;
    const fallback = gatewayFor(dst.ip.family, addressing, expected.routeGateway);
    const gw = route.gw ?? (fallback && formatIP(fallback));
    const found = routesByFamily[dst.ip.family].some(
      (r) => r.dst.length === dst.length && r.dst.ip.value === networkAddress(dst).value && (!gw || (r.gw && formatIP(r.gw) === gw)),
    );
    if (!found) throw checkFailed(`route to ${route.dst}${gw ? ` via ${gw}` : ''} is missing from ${JSON.stringify(cmd.netns)}`);
  }
}
