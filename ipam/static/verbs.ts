import { CniError, ErrorCode } from '../../lib/errors';
import { formatIP, formatPrefix, ipEquals, parseIP, parsePrefix } from '../../lib/ip';
import { log } from '../../lib/log';
import type { CmdArgs, DelArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { parseConfig, resultIPs, type StaticAddress } from './config';

/** ADD's config checks alone, for a plugin that delegates to static before it changes anything. */
export function validate(cmd: CmdArgs): void {
  parseConfig(cmd);
}

/** The configured addresses, routes and dns; nothing is reserved, nothing on the host changes. */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  const ips = resultIPs(conf.addresses);
  log.info('addresses', { ips: ips.map((ip) => ip.address) });
  return { cniVersion: conf.cniVersion, ips, routes: conf.routes, dns: conf.dns };
}

/** Nothing was allocated, so there is nothing to release; the config is not even read. */
export async function del(_cmd: DelArgs): Promise<void> {}

/**
 * Every address static would hand out is in prevResult.ips, with the same prefix length and, when
 * one is configured, the same gateway (the reference checks the gateway of the addresses it finds
 * only, and passes when an address is missing).
 */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  if (!cmd.prevResult) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, 'static CHECK needs "prevResult", the result of the ADD being checked');
  }
  const previous = cmd.prevResult.ips ?? [];
  for (const want of conf.addresses) checkAddress(want, previous, cmd.ifname);
}

function checkAddress(want: StaticAddress, previous: NonNullable<Result['ips']>, ifname: string): void {
  const address = formatPrefix(want.prefix);
  const where = `address ${JSON.stringify(address)} (${want.field}) of interface ${JSON.stringify(ifname)}`;
  const found = previous.find((ip) => {
    const p = parsePrefix(ip.address);
    return p !== undefined && ipEquals(p.ip, want.prefix.ip);
  });
  if (!found) throw new CniError(ErrorCode.CheckFailed, `static: ${where} is not in prevResult.ips`);
  if (parsePrefix(found.address)!.length !== want.prefix.length) {
    throw new CniError(ErrorCode.CheckFailed, `static: ${where} is ${JSON.stringify(found.address)} in prevResult.ips`);
  }
  if (!want.gateway) return;
  const gateway = found.gateway === undefined ? undefined : parseIP(found.gateway);
  if (!gateway || !ipEquals(gateway, want.gateway)) {
    throw new CniError(
      ErrorCode.CheckFailed,
      `static: ${where} has gateway ${JSON.stringify(found.gateway ?? null)} in prevResult.ips, not ${JSON.stringify(formatIP(want.gateway))}`,
    );
  }
}

/** static holds no state and needs nothing on the host: always ready. */
export async function status(_cmd: CmdArgs): Promise<void> {}

/** static holds no state, so there is no garbage to collect. */
export async function gc(_cmd: CmdArgs): Promise<void> {}
