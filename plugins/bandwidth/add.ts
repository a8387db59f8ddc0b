import { CniError, Errno, ErrorCode, NetlinkError } from '../../lib/errors';
import { deleteLink, type LinkInfo, linkByName, openHostSocket, openSocketIn, type RtNetlinkSocket } from '../../lib/netlink';
import { createIfb } from '../../lib/netlink/ifb';
import { addHtbClass, addQdisc, addU32Filter, deleteQdisc, tickInUsec } from '../../lib/netlink/tc';
import { attachmentKey } from '../../lib/state/attachment-state';
import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import type { Result } from '../../lib/types';
import { UndoStack } from '../../lib/undo';
import { bandwidthState, type BandwidthRecord } from './records';
import { type BandwidthConfig, parseConfig } from './config';
import { findHostInterface } from './host-interface';
import { ifbName, ingressQdisc, redirectFilter, type Shaper, shaper } from './shaping';

/**
 * Shapes traffic to the container with a root qdisc on the host end of its veth, and traffic from
 * it by redirecting the veth's ingress to an ifb shaped the same way. Passes prevResult through,
 * with the ifb added to its interfaces when there is one. A failure removes what was added.
 */
export async function add(cmd: CmdArgs): Promise<Result> {
  const conf = parseConfig(cmd);
  const prev = requirePrevResult(cmd, 'bandwidth');
  if (!conf.ingress && !conf.egress) return prev;
  const hostSock = openHostSocket();
  const ctrSock = openSocketIn(cmd.netns);
  try {
    const host = await findHostInterface(prev, cmd.ifname, ctrSock, hostSock);
    const ifb = await new UndoStack().run((undo) => shape(cmd, conf, hostSock, host, undo));
    return ifb ? { ...prev, interfaces: [...(prev.interfaces ?? []), { name: ifb.name, mac: ifb.mac }] } : prev;
  } finally {
    ctrSock.socket.close();
    hostSock.socket.close();
  }
}

async function shape(cmd: CmdArgs, conf: BandwidthConfig, sock: RtNetlinkSocket, host: LinkInfo, undo: UndoStack): Promise<LinkInfo | undefined> {
  const ticks = tickInUsec();
  const name = conf.egress ? ifbName(conf.networkName, cmd.containerId) : undefined;
  remember(cmd, { host: { name: host.name, index: host.index, root: Boolean(conf.ingress), ingress: Boolean(conf.egress) }, ifb: name }, undo);
  if (conf.ingress) {
    await apply(sock, shaper(host.index, conf.ingress, ticks, conf.subnets, 'src'), `shape traffic to the container on ${JSON.stringify(host.name)}`, undo);
  }
  if (!conf.egress || !name) return undefined;
  await step(`create ifb ${JSON.stringify(name)}`, () => createIfb(sock, name, host.mtu ?? 1500));
  const ifb = await linkByName(sock, name);
  if (!ifb) throw new CniError(ErrorCode.LinkFailure, `ifb ${JSON.stringify(name)} vanished right after it was created`);
  undo.push(`ifb ${name}`, () => deleteLink(sock, ifb.index));
  const ingress = ingressQdisc(host.index);
  await step(`add the ingress qdisc to ${JSON.stringify(host.name)}`, () => addQdisc(sock, ingress));
  undo.push(`ingress qdisc of ${host.name}`, () => deleteQdisc(sock, ingress));
  await step(`redirect ${JSON.stringify(host.name)}'s ingress to ${JSON.stringify(name)}`, () => addU32Filter(sock, redirectFilter(host.index, ifb.index)));
  await apply(sock, shaper(ifb.index, conf.egress, ticks, conf.subnets, 'dst'), `shape traffic from the container on ${JSON.stringify(name)}`);
  return ifb;
}

/** Records the attachment before touching the kernel, so GC finds what a killed ADD left; a repeated ADD keeps the first record. */
function remember(cmd: CmdArgs, record: BandwidthRecord, undo: UndoStack): void {
  const state = bandwidthState(cmd);
  const key = attachmentKey(cmd);
  const wrote = state.withLock(() => {
    if (state.read(key)) return false;
    state.write(key, record);
    return true;
  });
  if (wrote) undo.push('bandwidth record', () => state.withLock(() => state.remove(key)));
}

/** Adds a root qdisc with its classes and filters; undoing removes the root qdisc, which takes the rest with it. */
async function apply(sock: RtNetlinkSocket, s: Shaper, what: string, undo?: UndoStack): Promise<void> {
  const [root, ...leaves] = s.qdiscs;
  await step(what, () => addQdisc(sock, root));
  undo?.push(what, () => deleteQdisc(sock, root));
  await step(what, async () => {
    for (const c of s.classes) await addHtbClass(sock, c);
    for (const q of leaves) await addQdisc(sock, q);
    for (const f of s.filters) await addU32Filter(sock, f);
  });
}

/** A kernel refusal as a CNI error naming the step (code 110), e.g. a root qdisc someone else already set. */
async function step(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof NetlinkError)) throw err;
    const hint = err.errno === Errno.EEXIST ? ' (already there: another qdisc, another ifb of that name, or an ADD that was not deleted)' : '';
    throw new CniError(ErrorCode.LinkFailure, `cannot ${what}: ${err.message}${hint}`);
  }
}
