import { CniError, ErrorCode } from '../../lib/errors';
import { type LinkInfo, linkByName, openHostSocket, openSocketIn, type RtNetlinkSocket } from '../../lib/netlink';
import {
  formatTcHandle,
  listClasses,
  listU32Filters,
  qdiscAt,
  TC_H_INGRESS,
  TC_H_ROOT,
  TCA_EGRESS_REDIR,
  tickInUsec,
  type U32Filter,
  type U32FilterSpec,
} from '../../lib/netlink/tc';
import { requirePrevResult, type CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';
import { findHostInterface } from './host-interface';
import { INGRESS_HANDLE, ifbName, ROOT_HANDLE, type Shaper, shaper } from './shaping';

/**
 * The qdiscs, classes and filters ADD would install for this config are there with the same
 * numbers: the host veth's root qdisc for traffic to the container, and for traffic from it the
 * veth's ingress qdisc, the redirect to the ifb, and the ifb's root qdisc. A config without limits
 * passes (the reference panics on one).
 */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  const prev = requirePrevResult(cmd, 'bandwidth');
  if (!conf.ingress && !conf.egress) return;
  const hostSock = openHostSocket();
  const ctrSock = openSocketIn(cmd.netns);
  const wrong: string[] = [];
  try {
    const host = await findHostInterface(prev, cmd.ifname, ctrSock, hostSock);
    const ticks = tickInUsec();
    if (conf.ingress) wrong.push(...(await compare(hostSock, host, shaper(host.index, conf.ingress, ticks, conf.subnets, 'src'))));
    if (conf.egress) {
      const name = ifbName(conf.networkName, cmd.containerId);
      const ifb = await linkByName(hostSock, name);
      if (ifb?.kind !== 'ifb') wrong.push(`ifb ${JSON.stringify(name)} is missing`);
      else if (!ifb.up) wrong.push(`ifb ${JSON.stringify(name)} is down`);
      wrong.push(...(await compareRedirect(hostSock, host, ifb?.kind === 'ifb' ? ifb : undefined)));
      if (ifb?.kind === 'ifb') wrong.push(...(await compare(hostSock, ifb, shaper(ifb.index, conf.egress, ticks, conf.subnets, 'dst'))));
    }
  } finally {
    ctrSock.socket.close();
    hostSock.socket.close();
  }
  if (wrong.length) throw new CniError(ErrorCode.CheckFailed, wrong.join('; '));
}

const mismatches = (where: string, pairs: Array<[string, number | undefined, number]>): string[] =>
  pairs.filter(([, got, want]) => got !== want).map(([what, got, want]) => `${where}: ${what} is ${got ?? 'missing'}, expected ${want}`);

/**
 * A tbf's buffer as the kernel reports it: what was sent, or, on kernels that keep it in 32 bits of
 * nanoseconds (ticks are 64 ns), that clamped (containerd's 4 Gbit bursts at low rates get there).
 */
const sameTbfBuffer = (got: number | undefined, sent: number) => got === sent || got === Math.floor(Math.min(sent * 64, 0xffffffff) / 64);

async function compare(sock: RtNetlinkSocket, link: LinkInfo, want: Shaper): Promise<string[]> {
  const [wantRoot, ...wantLeaves] = want.qdiscs;
  const root = await qdiscAt(sock, link.index, TC_H_ROOT);
  const where = `${link.name} root qdisc`;
  if (root?.kind !== wantRoot.options.kind || root.handle !== wantRoot.handle) {
    const got = root?.handle ? `${root.kind} ${formatTcHandle(root.handle)}` : `the kernel's default${root ? ` (${root.kind})` : ''}`;
    return [`${where} is ${got}, expected ${wantRoot.options.kind} ${formatTcHandle(wantRoot.handle)}`];
  }
  const o = wantRoot.options;
  if (o.kind === 'tbf') {
    const wrong = mismatches(where, [
      ['rate (bytes/s)', root.tbf?.rate, o.rate],
      ['limit (bytes)', root.tbf?.limit, o.limit],
    ]);
    if (!sameTbfBuffer(root.tbf?.buffer, o.buffer)) wrong.push(`${where}: buffer (ticks) is ${root.tbf?.buffer ?? 'missing'}, expected ${o.buffer}`);
    return wrong;
  }
  if (o.kind !== 'htb') return [];
  const wrong = mismatches(where, [['default class', root.htb?.defaultClass, o.defaultClass]]);
  const classes = await listClasses(sock, link.index);
  for (const c of want.classes) {
    const got = classes.find((x) => x.classid === c.classid && x.kind === 'htb')?.htb;
    const at = `${link.name} class ${formatTcHandle(c.classid)}`;
    if (!got) wrong.push(`${at} is missing`);
    else
      wrong.push(
        ...mismatches(at, [
          ['rate (bytes/s)', got.rate, c.rate],
          ['ceil (bytes/s)', got.ceil, c.ceil],
          ['buffer (ticks)', got.buffer, c.buffer],
          ['cbuffer (ticks)', got.cbuffer, c.cbuffer],
        ]),
      );
  }
  for (const q of wantLeaves) {
    if ((await qdiscAt(sock, link.index, q.parent))?.kind !== q.options.kind) wrong.push(`${link.name}: no ${q.options.kind} qdisc under class ${formatTcHandle(q.parent)}`);
  }
  const filters = await listU32Filters(sock, link.index, ROOT_HANDLE);
  for (const f of want.filters) {
    if (!filters.some((x) => sameMatch(x, f))) wrong.push(`${link.name}: no u32 filter sends ${describeKeys(f)} to class ${formatTcHandle(f.classid ?? 0)}`);
  }
  return wrong;
}

const sameMatch = (got: U32Filter, want: U32FilterSpec) =>
  got.protocol === want.protocol &&
  got.priority === want.priority &&
  got.classid === want.classid &&
  got.keys?.length === want.keys.length &&
  want.keys.every((k, i) => got.keys?.[i].mask === k.mask && got.keys[i].value === k.value && got.keys[i].offset === k.offset);

const describeKeys = (f: U32FilterSpec) =>
  f.keys.map((k) => `${k.value.toString(16).padStart(8, '0')}/${k.mask.toString(16).padStart(8, '0')} at ${k.offset}`).join(' and ') || 'everything';

/** The host veth's ingress qdisc and a match-all filter redirecting to the ifb. */
async function compareRedirect(sock: RtNetlinkSocket, host: LinkInfo, ifb: LinkInfo | undefined): Promise<string[]> {
  const ingress = await qdiscAt(sock, host.index, TC_H_INGRESS);
  if (ingress?.kind !== 'ingress' || ingress.handle !== INGRESS_HANDLE) return [`${host.name} has no ingress qdisc ffff:`];
  if (!ifb) return [];
  const filters = await listU32Filters(sock, host.index, INGRESS_HANDLE);
  const matchAll = (f: U32Filter) => f.keys?.every((k) => k.mask === 0) === true;
  const redirects = filters.some((f) => matchAll(f) && f.actions.some((a) => a.direction === TCA_EGRESS_REDIR && a.ifindex === ifb.index));
  return redirects ? [] : [`${host.name}: no filter redirects its ingress to ${JSON.stringify(ifb.name)}`];
}
