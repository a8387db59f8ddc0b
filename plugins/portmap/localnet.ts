import { CniError, ErrorCode } from '../../lib/errors';
import type { IP } from '../../lib/ip';
import { linkByIndex, openHostSocket, outputInterface } from '../../lib/netlink';
import { writeSysctl } from '../../lib/sysctl';

/**
 * Lets 127.0.0.1:hostPort reach the container: after OUTPUT DNAT the packet still has source
 * 127.0.0.1 and leaves through the interface towards the container, which the kernel allows only
 * with route_localnet there. Only called once the localnet guard (CVE-2020-8558) is installed.
 */
export async function enableLocalnetRouting(containerIP: IP): Promise<string> {
  const host = openHostSocket();
  try {
    const index = await outputInterface(host, containerIP);
    const link = index === undefined ? undefined : await linkByIndex(host, index);
    if (!link) throw new CniError(ErrorCode.LinkFailure, 'no route from the host to the container address: cannot enable route_localnet');
    writeSysctl(['net', 'ipv4', 'conf', link.name, 'route_localnet'], '1');
    return link.name;
  } finally {
    host.socket.close();
  }
}
