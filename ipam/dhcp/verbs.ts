import { CniError, ErrorCode } from '../../lib/errors';
import { parsePrefix } from '../../lib/ip';
import { log } from '../../lib/log';
import type { CmdArgs, Verb } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { parseConfig, socketPathOf } from './config';
import { encodeOptions } from './lease';
import { decodeMessage } from './message';
import { DaemonUnreachableError, type DaemonRequest, type LeaseAnswer, callDaemon } from './protocol';
import { leaseResult } from './result';

/** ADD's config checks alone, for a plugin that delegates to dhcp before it changes anything. */
export function validate(cmd: CmdArgs): void {
  parseConfig(cmd);
}

/** Asks the daemon for this attachment's lease (a new one, or the one it holds) and returns it as the result. */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  const answer = await ask(cmd.command, conf.socketPath, {
    version: 1,
    method: 'add',
    attachment: { containerId: cmd.containerId, network: conf.network, ifname: cmd.ifname, netns: cmd.netns },
    provide: encodeOptions(conf.provide),
    request: conf.request,
  });
  const result = leaseResult(ackOf(answer.lease), conf.cniVersion, conf.priority);
  log.info('leased', { ips: result.ips?.map((ip) => ip.address) });
  return result;
}

/**
 * Has the daemon release the lease. Reads only the network name and `ipam.daemonSocketPath`, so
 * a config ADD refused is no reason to fail; a lease the daemon does not hold is success. A daemon
 * that is not running fails the DEL (11, try again later), as in the reference: it may hold the
 * lease on disk and renew it for a container that is gone.
 */
export async function del(cmd: CmdArgs): Promise<void> {
  await ask(cmd.command, socketPathOf(cmd.config), {
    version: 1,
    method: 'del',
    attachment: { containerId: cmd.containerId, network: cmd.config.name, ifname: cmd.ifname },
  });
}

/** The daemon holds a valid lease for the attachment, on the same interface, and its address is in prevResult. */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const answer = await ask(cmd.command, conf.socketPath, {
    version: 1,
    method: 'check',
    attachment: { containerId: cmd.containerId, network: conf.network, ifname: cmd.ifname, netns: cmd.netns },
  });
  const leased = leaseResult(ackOf(answer.lease), conf.cniVersion).ips![0].address;
  const previous = cmd.prevResult?.ips;
  if (!previous) return;
  const want = parsePrefix(leased)!;
  const found = previous.some((ip) => {
    const p = parsePrefix(ip.address);
    return p !== undefined && p.ip.value === want.ip.value && p.ip.family === want.ip.family && p.length === want.length;
  });
  if (!found) {
    throw new CniError(ErrorCode.CheckFailed, `dhcp: the lease of interface ${JSON.stringify(cmd.ifname)} is ${JSON.stringify(leased)}, which is not in prevResult.ips`);
  }
}

/** Ready when the daemon answers on its socket (50 when it does not). */
export async function status(cmd: CmdArgs): Promise<void> {
  await ask(cmd.command, socketPathOf(cmd.config), { version: 1, method: 'status' });
}

/** Has the daemon release the leases of this network whose attachment is not in cni.dev/valid-attachments. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const valid = (cmd.validAttachments ?? []).map((a) => ({ containerId: a.containerID, ifname: a.ifname }));
  const answer = await ask(cmd.command, socketPathOf(cmd.config), { version: 1, method: 'gc', network: cmd.config.name, valid });
  log.info('garbage collected', { released: answer.released ?? [] });
}

async function ask(verb: Verb, socketPath: string, request: DaemonRequest) {
  try {
    return await callDaemon(socketPath, request);
  } catch (err) {
    if (!(err instanceof DaemonUnreachableError)) throw err;
    // DEL: the daemon may be restarting; everything else: the plugin cannot work without it
    throw new CniError(verb === 'DEL' ? ErrorCode.TryAgainLater : ErrorCode.PluginNotAvailable, `dhcp: ${err.message}`);
  }
}

function ackOf(lease: LeaseAnswer | undefined) {
  const ack = lease && decodeMessage(Buffer.from(lease.ack, 'base64'));
  if (!ack) throw new CniError(ErrorCode.IOFailure, 'dhcp: the daemon answered without a readable DHCPACK');
  return ack;
}
