import { readFileSync } from 'node:fs';
import { Errno, NetlinkError } from '../errors';
import { attr, attributeMap, parseAttributes, string, u32, u64 } from './attributes';
import { toBuffer } from './encode';
import { Flags, FlagsGet, FlagsNew, formatTcMessage, MessageType, type RtNetlinkSocket, type TcMessage } from './package';
import { call } from './socket';

/**
 * Traffic control over rtnetlink (what `tc` does, in-process): qdiscs, HTB classes and u32 filters
 * with mirred actions. The `netlink` package carries the tcmsg header and TCA_KIND; everything
 * inside TCA_OPTIONS is encoded here, byte for byte as the reference plugins (vishvananda/netlink)
 * send it: no NLA_F_NESTED flags, attributes padded to 4 bytes.
 */

export const TC_H_ROOT = 0xffffffff;
export const TC_H_INGRESS = 0xfffffff1;
export const ETH_P_ALL = 0x0003;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
/** tc actions' verdicts (TC_ACT_*) and mirred's directions (TCA_*_REDIR). */
export const TC_ACT_OK = 0;
export const TC_ACT_STOLEN = 4;
export const TCA_EGRESS_REDIR = 1;

/** A handle or class id "major:minor". */
export const tcHandle = (major: number, minor: number): number => ((major << 16) | minor) >>> 0;

/** A handle as tc prints it: "1:", "ffff:", "1:30". */
export const formatTcHandle = (h: number): string => `${(h >>> 16).toString(16)}:${h & 0xffff ? (h & 0xffff).toString(16) : ''}`;

const CREATE_EXCLUSIVE = { flags: FlagsNew.CREATE | FlagsNew.EXCL };
const U32_MAX = 0xffffffff;

// attribute numbers (linux/pkt_sched.h, linux/pkt_cls.h, linux/tc_act/tc_mirred.h)
const TCA_TBF_PARMS = 1;
const TCA_TBF_RATE64 = 4;
const TCA_HTB_PARMS = 1;
const TCA_HTB_INIT = 2;
const TCA_HTB_RATE64 = 6;
const TCA_HTB_CEIL64 = 7;
const TCA_U32_CLASSID = 1;
const TCA_U32_SEL = 5;
const TCA_U32_ACT = 7;
const TCA_ACT_KIND = 1;
const TCA_ACT_OPTIONS = 2;
const TCA_MIRRED_PARMS = 2;
const TC_U32_TERMINAL = 1;

// ---------------------------------------------------------------- encoding

/** struct tc_ratespec with only the rate set (bytes/s, at most 2^32-1: larger rates also go in a *_RATE64 attribute). */
function ratespec(bytesPerSecond: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(Math.min(bytesPerSecond, U32_MAX), 8);
  return b;
}

/** The options of a qdisc, in the kernel's units: rates in bytes/s, buffers in scheduler ticks, limits in bytes or packets. */
export type QdiscOptions =
  | { kind: 'tbf'; rate: number; limit: number; buffer: number }
  | { kind: 'ingress' }
  | { kind: 'htb'; defaultClass: number; rate2quantum: number }
  | { kind: 'bfifo'; limit: number }
  | { kind: 'pfifo'; limit: number };

export interface QdiscSpec {
  ifindex: number;
  handle: number;
  parent: number;
  options: QdiscOptions;
}

function qdiscOptions(o: QdiscOptions): Buffer {
  switch (o.kind) {
    case 'tbf': {
      // struct tc_tbf_qopt: rate, peakrate, limit, buffer, mtu
      const rate64 = o.rate > U32_MAX ? [attr(TCA_TBF_RATE64, u64(o.rate))] : [];
      return Buffer.concat([attr(TCA_TBF_PARMS, ratespec(o.rate), ratespec(0), u32(o.limit), u32(o.buffer), u32(0)), ...rate64]);
    }
    case 'ingress':
      return Buffer.alloc(0);
    case 'htb':
      // struct tc_htb_glob: version, rate2quantum, defcls, debug, direct_pkts
      return attr(TCA_HTB_INIT, u32(3), u32(o.rate2quantum), u32(o.defaultClass), u32(0), u32(0));
    case 'bfifo':
    case 'pfifo':
      return u32(o.limit); // struct tc_fifo_qopt, not an attribute
  }
}

function tcMessage(header: { ifindex: number; handle: number; parent: number; info?: number }, kind?: string, options?: Buffer): Buffer {
  const message: TcMessage = {
    kind: 'tc',
    data: { family: 0, ifindex: header.ifindex, handle: header.handle, parent: header.parent, info: header.info ?? 0 },
    attrs: { kind, options },
  };
  return toBuffer((out) => formatTcMessage(message, out));
}

/** The RTM_NEWQDISC payload (tcmsg and attributes) for `spec`. */
export const qdiscMessage = (spec: QdiscSpec): Buffer => tcMessage(spec, spec.options.kind, qdiscOptions(spec.options));

export interface HtbClassSpec {
  ifindex: number;
  classid: number;
  parent: number;
  /** bytes/s */
  rate: number;
  ceil: number;
  /** ticks */
  buffer: number;
  cbuffer: number;
  /** bytes served per round when classes share; 0 lets the kernel derive it from the rate (and warn when it is out of 1000..200000) */
  quantum: number;
}

/** The RTM_NEWTCLASS payload of an HTB class. */
export function htbClassMessage(spec: HtbClassSpec): Buffer {
  // struct tc_htb_opt: rate, ceil, buffer, cbuffer, quantum, level, prio
  const parms = attr(TCA_HTB_PARMS, ratespec(spec.rate), ratespec(spec.ceil), u32(spec.buffer), u32(spec.cbuffer), u32(spec.quantum), u32(0), u32(0));
  const rate64 = spec.rate > U32_MAX ? [attr(TCA_HTB_RATE64, u64(spec.rate))] : [];
  const ceil64 = spec.ceil > U32_MAX ? [attr(TCA_HTB_CEIL64, u64(spec.ceil))] : [];
  return tcMessage({ ifindex: spec.ifindex, handle: spec.classid, parent: spec.parent }, 'htb', Buffer.concat([parms, ...rate64, ...ceil64]));
}

/** One 32-bit match of a u32 selector: (packet[offset..offset+4] & mask) == value, both in network order. */
export interface U32Key {
  mask: number;
  value: number;
  offset: number;
}

/** A mirred action: redirect (or mirror) to `ifindex`, then `verdict` (TC_ACT_*). */
export interface MirredAction {
  kind: 'mirred';
  verdict: number;
  direction: number;
  ifindex: number;
}

export interface U32FilterSpec {
  ifindex: number;
  parent: number;
  priority: number;
  /** ETH_P_* */
  protocol: number;
  classid?: number;
  /** All must match; an empty list matches every packet. */
  keys: U32Key[];
  actions: MirredAction[];
}

function u32Selector(keys: U32Key[]): Buffer {
  // struct tc_u32_sel: flags, offshift, nkeys, pad, offmask, off, offoff, hoff, hmask; then struct tc_u32_key each
  const all = keys.length ? keys : [{ mask: 0, value: 0, offset: 0 }];
  const sel = Buffer.alloc(16 + 16 * all.length);
  sel.writeUInt8(TC_U32_TERMINAL, 0);
  sel.writeUInt8(all.length, 2);
  all.forEach((k, i) => {
    sel.writeUInt32BE(k.mask >>> 0, 16 + 16 * i);
    sel.writeUInt32BE(k.value >>> 0, 20 + 16 * i);
    sel.writeInt32LE(k.offset, 24 + 16 * i);
  });
  return sel;
}

function mirred(a: MirredAction, order: number): Buffer {
  // struct tc_mirred: tc_gen (index, capab, action, refcnt, bindcnt), eaction, ifindex
  const parms = Buffer.concat([u32(0), u32(0), u32(a.verdict), u32(0), u32(0), u32(a.direction), u32(a.ifindex)]);
  return attr(order, attr(TCA_ACT_KIND, string('mirred')), attr(TCA_ACT_OPTIONS, attr(TCA_MIRRED_PARMS, parms)));
}

/** The RTM_NEWTFILTER payload of a u32 filter. */
export function u32FilterMessage(spec: U32FilterSpec): Buffer {
  const parts = [attr(TCA_U32_SEL, u32Selector(spec.keys))];
  if (spec.classid !== undefined) parts.push(attr(TCA_U32_CLASSID, u32(spec.classid)));
  if (spec.actions.length) parts.push(attr(TCA_U32_ACT, ...spec.actions.map((a, i) => mirred(a, i + 1))));
  // tcm_info: priority in the high half, protocol (network order) in the low half
  const info = ((spec.priority << 16) | ((spec.protocol & 0xff) << 8) | (spec.protocol >> 8)) >>> 0;
  return tcMessage({ ifindex: spec.ifindex, handle: 0, parent: spec.parent, info }, 'u32', Buffer.concat(parts));
}

// ---------------------------------------------------------------- requests

export async function addQdisc(sock: RtNetlinkSocket, spec: QdiscSpec): Promise<void> {
  await call(`add ${spec.options.kind} qdisc ${formatTcHandle(spec.handle)} on #${spec.ifindex}`, () => sock.request(MessageType.NEWQDISC, qdiscMessage(spec), CREATE_EXCLUSIVE));
}

export async function deleteQdisc(sock: RtNetlinkSocket, q: Pick<QdiscSpec, 'ifindex' | 'handle' | 'parent'>): Promise<void> {
  await call(`delete qdisc ${formatTcHandle(q.handle)} on #${q.ifindex}`, () => sock.request(MessageType.DELQDISC, tcMessage(q)));
}

export async function addHtbClass(sock: RtNetlinkSocket, spec: HtbClassSpec): Promise<void> {
  await call(`add htb class ${formatTcHandle(spec.classid)} on #${spec.ifindex}`, () => sock.request(MessageType.NEWTCLASS, htbClassMessage(spec), CREATE_EXCLUSIVE));
}

export async function addU32Filter(sock: RtNetlinkSocket, spec: U32FilterSpec): Promise<void> {
  await call(`add u32 filter on #${spec.ifindex} parent ${formatTcHandle(spec.parent)}`, () => sock.request(MessageType.NEWTFILTER, u32FilterMessage(spec), CREATE_EXCLUSIVE));
}

// ---------------------------------------------------------------- decoding

const rate64 = (spec: Buffer, extra: Buffer | undefined): number => (extra ? Number(extra.readBigUInt64LE(0)) : spec.readUInt32LE(8));

export interface Qdisc {
  ifindex: number;
  handle: number;
  parent: number;
  kind: string;
  tbf?: { rate: number; limit: number; buffer: number };
  htb?: { defaultClass: number; rate2quantum: number };
  fifo?: { limit: number };
}

/**
 * The qdisc attached at `parent` of link `ifindex` (TC_H_ROOT, TC_H_INGRESS or a class), asked for
 * alone rather than found in a dump of every qdisc of the namespace; undefined when there is none.
 */
export async function qdiscAt(sock: RtNetlinkSocket, ifindex: number, parent: number): Promise<Qdisc | undefined> {
  try {
    // the kernel sends the answer to a non-dump get as a notification, to the asker only with NLM_F_ECHO
    const [m] = await call(`get qdisc ${formatTcHandle(parent)} of #${ifindex}`, () => sock.getQdisc({ ifindex, parent }, {}, { flags: Flags.ECHO }));
    return m ? toQdisc(m) : undefined;
  } catch (err) {
    if (err instanceof NetlinkError && (err.errno === Errno.ENOENT || err.errno === Errno.ENODEV || err.errno === Errno.EINVAL)) return undefined;
    throw err;
  }
}

function toQdisc(m: TcMessage): Qdisc {
  const q: Qdisc = { ifindex: m.data.ifindex ?? 0, handle: (m.data.handle ?? 0) >>> 0, parent: (m.data.parent ?? 0) >>> 0, kind: m.attrs.kind ?? '' };
  const opts = attributeMap(m.attrs.options);
  const tbf = opts.get(TCA_TBF_PARMS);
  if (q.kind === 'tbf' && tbf && tbf.length >= 36) q.tbf = { rate: rate64(tbf, opts.get(TCA_TBF_RATE64)), limit: tbf.readUInt32LE(24), buffer: tbf.readUInt32LE(28) };
  const htb = opts.get(TCA_HTB_INIT);
  if (q.kind === 'htb' && htb && htb.length >= 12) q.htb = { rate2quantum: htb.readUInt32LE(4), defaultClass: htb.readUInt32LE(8) };
  if ((q.kind === 'bfifo' || q.kind === 'pfifo') && m.attrs.options && m.attrs.options.length >= 4) q.fifo = { limit: m.attrs.options.readUInt32LE(0) };
  return q;
}

export interface TcClass {
  classid: number;
  parent: number;
  kind: string;
  htb?: Omit<HtbClassSpec, 'ifindex' | 'classid' | 'parent'>;
}

export async function listClasses(sock: RtNetlinkSocket, ifindex: number): Promise<TcClass[]> {
  const messages = await call(`list classes of #${ifindex}`, () => sock.getTrafficClasses({ ifindex }));
  return messages
    .filter((m) => m.data.ifindex === ifindex)
    .map((m) => {
      const c: TcClass = { classid: (m.data.handle ?? 0) >>> 0, parent: (m.data.parent ?? 0) >>> 0, kind: m.attrs.kind ?? '' };
      const opts = attributeMap(m.attrs.options);
      const p = opts.get(TCA_HTB_PARMS);
      if (c.kind === 'htb' && p && p.length >= 44) {
        c.htb = {
          rate: rate64(p, opts.get(TCA_HTB_RATE64)),
          ceil: rate64(p.subarray(12), opts.get(TCA_HTB_CEIL64)),
          buffer: p.readUInt32LE(24),
          cbuffer: p.readUInt32LE(28),
          quantum: p.readUInt32LE(32),
        };
      }
      return c;
    });
}

export interface U32Filter {
  parent: number;
  priority: number;
  protocol: number;
  /** The filter's node handle (800::800 and so on); the hash tables u32 lists too have no selector. */
  handle: number;
  classid?: number;
  /** Undefined for u32's hash-table entries. */
  keys?: U32Key[];
  actions: MirredAction[];
}

/** The u32 filters attached under `parent` (a qdisc handle) of link `ifindex`. */
export async function listU32Filters(sock: RtNetlinkSocket, ifindex: number, parent: number): Promise<U32Filter[]> {
  const messages = await call(`list filters of #${ifindex} parent ${formatTcHandle(parent)}`, () =>
    sock.request(MessageType.GETTFILTER, tcMessage({ ifindex, handle: 0, parent }), { flags: FlagsGet.DUMP }),
  );
  return (messages as TcMessage[]).filter((m) => m.kind === 'tc' && m.data.ifindex === ifindex && m.attrs.kind === 'u32').map(toU32Filter);
}

function toU32Filter(m: TcMessage): U32Filter {
  const info = (m.data.info ?? 0) >>> 0;
  const opts = attributeMap(m.attrs.options);
  const f: U32Filter = {
    parent: (m.data.parent ?? 0) >>> 0,
    priority: info >>> 16,
    protocol: ((info & 0xff) << 8) | ((info >> 8) & 0xff),
    handle: (m.data.handle ?? 0) >>> 0,
    actions: [],
  };
  const classid = opts.get(TCA_U32_CLASSID);
  if (classid) f.classid = classid.readUInt32LE(0);
  const sel = opts.get(TCA_U32_SEL);
  if (sel && sel.length >= 16) {
    const n = sel.readUInt8(2);
    f.keys = [];
    for (let i = 0; i < n && 16 + 16 * (i + 1) <= sel.length; i++) {
      f.keys.push({ mask: sel.readUInt32BE(16 + 16 * i), value: sel.readUInt32BE(20 + 16 * i), offset: sel.readInt32LE(24 + 16 * i) });
    }
  }
  for (const action of parseAttributes(opts.get(TCA_U32_ACT))) {
    const a = attributeMap(action.data);
    const parms = attributeMap(a.get(TCA_ACT_OPTIONS)).get(TCA_MIRRED_PARMS);
    if (a.get(TCA_ACT_KIND)?.toString('latin1').replace(/\0+$/, '') !== 'mirred' || !parms || parms.length < 28) continue;
    f.actions.push({ kind: 'mirred', verdict: parms.readInt32LE(8), direction: parms.readInt32LE(20), ifindex: parms.readUInt32LE(24) });
  }
  return f;
}

// ---------------------------------------------------------------- clock

let ticksPerMicrosecond: number | undefined;

/**
 * Scheduler ticks per microsecond from /proc/net/psched, computed as the reference plugins'
 * netlink library does (15.625 on current kernels): tbf and HTB buffers are given in ticks.
 */
export function tickInUsec(): number {
  if (ticksPerMicrosecond === undefined) {
    const [t2us, us2t, clockRes] = readFileSync('/proc/net/psched', 'utf8')
      .trim()
      .split(/\s+/)
      .map((v) => parseInt(v, 16));
    const clockFactor = clockRes / 1_000_000;
    ticksPerMicrosecond = ((clockRes === 1_000_000_000 ? us2t : t2us) / us2t) * clockFactor;
  }
  return ticksPerMicrosecond;
}
