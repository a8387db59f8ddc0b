import { setHairpin, setLinkUp, setMaster, type LinkInfo, type RtNetlinkSocket } from '../../lib/netlink';
import { writeSysctl } from '../../lib/sysctl';

/** Enslaves the host end to the bridge, sets hairpin as asked, brings it up. */
export async function attachToBridge(host: RtNetlinkSocket, veth: LinkInfo, bridge: LinkInfo, hairpin: boolean): Promise<void> {
  await setMaster(host, veth, bridge.index);
  writeSysctl(['net', 'ipv6', 'conf', veth.name, 'accept_ra'], '0');
  if (hairpin) await setHairpin(host, veth, true);
  await setLinkUp(host, veth, true);
}
