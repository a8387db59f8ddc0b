import { writeSysctl } from '../sysctl';

/** Forwarding only for the families in use (see README: IPv6 forwarding and accept_ra). */
export function enableForwarding(families: Set<4 | 6>): void {
  if (families.has(4)) writeSysctl(['net', 'ipv4', 'ip_forward'], '1');
  if (families.has(6)) writeSysctl(['net', 'ipv6', 'conf', 'all', 'forwarding'], '1');
}
