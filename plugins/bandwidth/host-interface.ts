import { CniError, ErrorCode } from '../../lib/errors';
import { type LinkInfo, linkByIndex, type RtNetlinkSocket } from '../../lib/netlink';
import { vethPeerOf } from '../../lib/netlink/ifb';
import type { Result } from '../../lib/types';

const fail = (msg: string) => new CniError(ErrorCode.LinkFailure, msg);

/**
 * The host end of the container's veth, as the reference finds it: the container interface must be
 * a veth; its peer's index must name a link of the host namespace; and that link must be an
 * interface of prevResult without a sandbox.
 */
export async function findHostInterface(prev: Result, ifname: string, ctrSock: RtNetlinkSocket, hostSock: RtNetlinkSocket): Promise<LinkInfo> {
  if (!prev.interfaces?.length) throw fail('prevResult lists no interfaces: cannot find the host end of the container interface');
  const ctr = await vethPeerOf(ctrSock, ifname);
  if (!ctr) throw fail(`container interface ${JSON.stringify(ifname)} not found`);
  if (ctr.peerIndex === undefined)
    throw fail(`container interface ${JSON.stringify(ifname)} has no veth peer (it is ${ctr.kind ? `a ${ctr.kind}` : 'not a veth'}): bandwidth shapes veth pairs only`);
  const host = await linkByIndex(hostSock, ctr.peerIndex);
  if (!host) throw fail(`the veth peer of ${JSON.stringify(ifname)} (index ${ctr.peerIndex}) is not in the host namespace`);
  if (!prev.interfaces.some((i) => !i.sandbox && i.name === host.name)) {
    throw fail(`the veth peer of ${JSON.stringify(ifname)} is ${JSON.stringify(host.name)}, which prevResult does not list as a host interface`);
  }
  return host;
}
