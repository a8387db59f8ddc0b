import { CniError, Errno, ErrorCode, NetlinkError } from '../../lib/errors';
import type { Addressing } from '../../lib/iface/addressing';
import { formatPrefix, hostPrefix } from '../../lib/ip';
import { addAddress, addRoute, deleteRoute, setLinkUp, type LinkInfo, type RtNetlinkSocket } from '../../lib/netlink';
import { writeSysctl } from '../../lib/sysctl';

const SCOPE_LINK = 253;
const SCOPE_HOST = 254;

const ignoring = async (errno: number, step: () => Promise<void>) => {
  try {
    await step();
  } catch (err) {
    if (!(err instanceof NetlinkError && err.errno === errno)) throw err;
  }
};

/** IPAM gave every address a gateway: ptp puts it on the host end and routes the container through it. */
export function requireGateways(ips: Array<{ address: string; gateway?: string }>, ipamType: string): void {
  const without = ips.filter((ip) => !ip.gateway);
  if (without.length) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `IPAM plugin ${JSON.stringify(ipamType)} returned ${without.map((ip) => ip.address).join(', ')} without a gateway: ptp puts the gateway on the host end and routes the container through it`,
    );
  }
}

/**
 * The container's routes as the reference's ptp leaves them, set once the addresses are up: the
 * kernel's subnet route goes, and instead the gateway is on-link (`<gw>/32 dev <if> scope link src
 * <ip>`) and the subnet is behind it (`<subnet> via <gw> src <ip>`), so every packet, to neighbours in
 * the subnet too, goes to the host end. (A /32 address has no subnet route to delete.)
 */
export async function pointToPointRoutes(ctr: RtNetlinkSocket, link: LinkInfo, addressing: Addressing[]): Promise<void> {
  for (const a of addressing) {
    await ignoring(Errno.ESRCH, () => deleteRoute(ctr, { dst: a.subnet, linkIndex: link.index }));
    await addRoute(ctr, { dst: hostPrefix(a.gateway), linkIndex: link.index, scope: SCOPE_LINK, src: a.ip });
    await addRoute(ctr, { dst: a.subnet, gw: a.gateway, linkIndex: link.index, scope: 0, src: a.ip });
  }
}

/**
 * The host end as the reference's ptp leaves it: no router advertisements, up, each gateway as a
 * /32 (/128) address, and a host route (scope host) to each container address. IPv6 gateways are
 * added without DAD: nothing else on this link can hold them, and a tentative gateway would not
 * answer the container for a second.
 */
export async function setupHostVeth(host: RtNetlinkSocket, veth: LinkInfo, addressing: Addressing[]): Promise<void> {
  writeSysctl(['net', 'ipv6', 'conf', veth.name, 'accept_ra'], '0');
  await setLinkUp(host, veth, true);
  for (const a of addressing) {
    const gw = hostPrefix(a.gateway);
    try {
      await addAddress(host, veth.index, gw.ip, gw.length, true);
    } catch (err) {
      if (err instanceof NetlinkError) throw new CniError(ErrorCode.LinkFailure, `cannot add ${formatPrefix(gw)} to host veth ${JSON.stringify(veth.name)}: ${err.message}`);
      throw err;
    }
    await ignoring(Errno.EEXIST, () => addRoute(host, { dst: hostPrefix(a.ip), linkIndex: veth.index, scope: SCOPE_HOST }));
  }
}
