import { CniError, ErrorCode } from '../errors';
import { readSysctl, writeSysctl } from '../sysctl';

const FORWARDING = { 4: ['net', 'ipv4', 'ip_forward'], 6: ['net', 'ipv6', 'conf', 'all', 'forwarding'] };

/** Forwarding only for the families in use (see README: IPv6 forwarding and accept_ra). */
export function enableForwarding(families: Set<4 | 6>): void {
  for (const family of families) writeSysctl(FORWARDING[family], '1');
}

/** CHECK: forwarding is still on for the families in use; without it a container reaches nothing beyond the host. */
export function checkForwarding(families: Set<4 | 6>): void {
  for (const family of families) {
    const value = readSysctl(FORWARDING[family]);
    if (value !== undefined && value !== '1') {
      throw new CniError(ErrorCode.CheckFailed, `${FORWARDING[family].join('.')} is ${value}: the host no longer forwards the container's IPv${family} traffic`);
    }
  }
}
