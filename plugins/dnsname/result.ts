import { CniError, ErrorCode } from '../../lib/errors';
import { formatIP, parsePrefix } from '../../lib/ip';
import type { Result } from '../../lib/types';

/**
 * The container's addresses, as containers/dnsname picks them: every address of prevResult when it
 * has one, else those of the interface `ifname` inside a sandbox (and those that name no interface).
 */
export function containerIPs(prev: Result, ifname: string): string[] {
  const all = prev.ips ?? [];
  const chosen =
    all.length === 1
      ? all
      : all.filter((ip) => {
          if (ip.interface === undefined) return true;
          const iface = prev.interfaces?.[ip.interface];
          return iface !== undefined && iface.name === ifname && Boolean(iface.sandbox);
        });
  if (!chosen.length) throw new CniError(ErrorCode.InvalidNetworkConfig, `prevResult has no IP address for interface ${JSON.stringify(ifname)}: no name to register`);
  return chosen.map((ip) => formatIP(parsePrefix(ip.address)!.ip));
}
