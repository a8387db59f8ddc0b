import { CniError, ErrorCode } from '../../lib/errors';
import { parsePrefix } from '../../lib/ip';
import { log } from '../../lib/log';
import type { CmdArgs, DelArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { parseConfig, socketPathOf } from './config';
import { encodeOptions } from './lease';
import { clientIdOf } from './options';
import { decodeMessage } from './message';
import { DaemonUnreachableError, type DaemonRequest, type LeaseAnswer, callDaemon } from './protocol';
import { markReleased } from './released';
import { leaseResult } from './result';

/** ADD's config checks alone, for a plugin that delegates to dhcp before it changes anything. */
export function validate(cmd: CmdArgs): void {
  parseConfig(cmd);
}

/** Asks the daemon for this attachment's lease (a new one, or the one it holds) and returns it as the result. */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  const answer = await ask(conf.socketPath, {
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
 * that is not running cannot fail the DEL either (the runtime could not remove the container): the
 * lease is marked released beside its socket, and the daemon releases it when it starts.
 */
export async function del(cmd: DelArgs): Promise<void> {
  const socketPath = socketPathOf(cmd.config);
  const attachment = { containerId: cmd.containerId, network: cmd.config.name, ifname: cmd.ifname };
  try {
    await callDaemon(socketPath, { version: 1, method: 'del', attachment });
  } catch (err) {
    if (!(err instanceof DaemonUnreachableError)) throw err;
    markReleased(socketPath, clientIdOf(attachment.containerId, attachment.network, attachment.ifname));
    log.warn('dhcp: the daemon is not running; the lease is marked released, for the daemon to release when it starts', { socket: socketPath, error: err.message });
  }
}

/** The daemon holds a valid lease for the attachment, on the same interface, and its address is in prevResult. */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const answer = await ask(conf.socketPath, {
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
  await ask(socketPathOf(cmd.config), { version: 1, method: 'status' });
}

/** Has the daemon release the leases of this network whose attachment is not in cni.dev/valid-attachments. */
export async function gc(cmd: CmdArgs): Promise<void> {
  const valid = (cmd.validAttachments ?? []).map((a) => ({ containerId: a.containerID, ifname: a.ifname }));
  const answer = await ask(socketPathOf(cmd.config), { version: 1, method: 'gc', network: cmd.config.name, valid });
  log.info('garbage collected', { released: answer.released ?? [] });
}

async function ask(socketPath: string, request: DaemonRequest) {
  try {
    return await callDaemon(socketPath, request);
  } catch (err) {
    if (!(err instanceof DaemonUnreachableError)) throw err;
    throw new CniError(ErrorCode.PluginNotAvailable, `dhcp: ${err.message}`);
  }
}

function ackOf(lease: LeaseAnswer | undefined) {
  const ack = lease && decodeMessage(Buffer.from(lease.ack, 'base64'));
  if (!ack) throw new CniError(ErrorCode.IOFailure, 'dhcp: the daemon answered without a readable DHCPACK');
  return ack;
}
