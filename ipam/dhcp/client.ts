import { randomInt } from 'node:crypto';
import { CniError, ErrorCode } from '../../lib/errors';
import { BROADCAST_MAC, ETH_P_IP, openPacketSocket, type PacketSocket, udpDestinationPortFilter } from '../../lib/ffi/packet';
import { withNetns } from '../../lib/netns';
import { decodeUdp, encodeUdp } from './frame';
import type { ClientLink } from './link';
import {
  BOOTREPLY,
  BROADCAST_IP,
  CLIENT_PORT,
  type DhcpMessage,
  FLAG_BROADCAST,
  MAX_MESSAGE_SIZE,
  MESSAGE_TYPE_NAMES,
  MessageType,
  Option,
  SERVER_PORT,
  ZERO_IP,
  decodeMessage,
  encodeMessage,
  formatIPv4,
  isZero,
  messageType,
  request,
} from './message';
import { clientIdOption } from './options';

/** What the client sends for one lease besides the protocol's own options. */
export interface ClientIdentity {
  clientId: string;
  /** `ipam.provide`, by code; a 61 here replaces the client id's. */
  provide: Map<number, Buffer>;
  /** The parameter request list; empty for none. */
  request: number[];
}

/** The reference daemon's -timeout, -resendmax and -resendtimeout. */
export interface ClientTiming {
  /** How long one message waits for its answer. */
  timeoutMs: number;
  /** The longest pause between two tries. */
  resendMaxMs: number;
  /** How long an acquisition keeps trying before it gives up. */
  resendTimeoutMs: number;
}

/** A lease as the server granted it. */
export interface Granted {
  ack: DhcpMessage;
  /** The DHCPACK's bytes, kept (and persisted) to rebuild the result and the renewals. */
  ackBytes: Buffer;
  /** Link-layer source of the DHCPACK: where unicast renewals go. */
  serverMac: Buffer;
  /** When the DHCPACK arrived (ms since the epoch); the lease's times count from here. */
  at: number;
}

/** How often a waiting exchange looks at its socket (Node cannot wait on a packet socket). */
const POLL_MS = 10;
/** RFC 2131 4.1: the first retransmission after about 4 s, then doubling; the reference retries faster first. */
const RESEND_DELAY_0_MS = 4000;
const FAST_RESEND_MS = 2000;
const FAST_RESENDS = 4;

export class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortedError';
  }
}

/** Waits `ms`, or less when `signal` aborts (then throws AbortedError). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One DHCP conversation on one interface: a packet socket created in its namespace, closed after. */
class Exchange {
  private constructor(
    private readonly socket: PacketSocket,
    private readonly link: ClientLink,
  ) {}

  static open(link: ClientLink): Exchange {
    const socket = withNetns(link.netns, () => openPacketSocket(link.index, ETH_P_IP, udpDestinationPortFilter(CLIENT_PORT)));
    return new Exchange(socket, link);
  }

  send(msg: DhcpMessage, to: { ip: Buffer; mac: Buffer; from?: Buffer }): void {
    const payload = encodeMessage(msg);
    this.socket.send(encodeUdp({ source: to.from ?? ZERO_IP, destination: to.ip, sourcePort: CLIENT_PORT, destinationPort: SERVER_PORT, payload }), to.mac);
  }

  /** The first reply to transaction `xid` for our hardware address that `accept` takes, or undefined after `ms`. */
  async reply(xid: number, accept: (msg: DhcpMessage) => boolean, ms: number, signal?: AbortSignal): Promise<{ msg: DhcpMessage; bytes: Buffer; sourceMac: Buffer } | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (const packet of this.socket.receive()) {
        const udp = decodeUdp(packet.data);
        if (!udp || udp.sourcePort !== SERVER_PORT || udp.destinationPort !== CLIENT_PORT) continue;
        const msg = decodeMessage(udp.payload);
        if (!msg || msg.op !== BOOTREPLY || msg.xid !== xid || !msg.chaddr.equals(this.link.mac)) continue;
        if (accept(msg)) return { msg, bytes: udp.payload, sourceMac: packet.sourceMac };
      }
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(POLL_MS, left), signal);
    }
  }

  close(): void {
    this.socket.close();
  }
}

const newXid = (): number => randomInt(0, 0x100000000);

/** Options of a DISCOVER or REQUEST: type first, the client id, then `extra`, size, request list, provided options. */
export function clientOptions(type: number, identity: ClientIdentity, extra: Array<[number, Buffer]> = []): Map<number, Buffer> {
  const options = new Map<number, Buffer>([
    [Option.MESSAGE_TYPE, Buffer.from([type])],
    [Option.CLIENT_ID, clientIdOption(identity.clientId)],
    ...extra,
    [Option.MAX_MESSAGE_SIZE, Buffer.from([MAX_MESSAGE_SIZE >> 8, MAX_MESSAGE_SIZE & 0xff])],
  ]);
  if (identity.request.length) options.set(Option.PARAMETER_REQUEST_LIST, Buffer.from(identity.request));
  for (const [code, value] of identity.provide) options.set(code, value);
  return options;
}

/** DISCOVER (RFC 2131 table 5), broadcast flag set; `hint` asks for an address held before (option 50). */
export function discoverMessage(identity: ClientIdentity, mac: Buffer, xid: number, secs = 0, hint?: Buffer): DhcpMessage {
  const extra: Array<[number, Buffer]> = hint && !isZero(hint) ? [[Option.REQUESTED_IP, hint]] : [];
  return request({ xid, secs, flags: FLAG_BROADCAST, chaddr: mac, options: clientOptions(MessageType.DISCOVER, identity, extra) });
}

/** REQUEST in SELECTING state: the offered address (50) from the server that offered it (54), same xid as the DISCOVER. */
export function selectingMessage(identity: ClientIdentity, mac: Buffer, xid: number, secs: number, offered: Buffer, serverId: Buffer): DhcpMessage {
  const extra: Array<[number, Buffer]> = [
    [Option.REQUESTED_IP, offered],
    [Option.SERVER_ID, serverId],
  ];
  return request({ xid, secs, flags: FLAG_BROADCAST, chaddr: mac, options: clientOptions(MessageType.REQUEST, identity, extra) });
}

/** REQUEST in RENEWING or REBINDING state: the address held in ciaddr, no 50 or 54. */
export function renewingMessage(identity: ClientIdentity, mac: Buffer, xid: number, held: Buffer): DhcpMessage {
  return request({ xid, ciaddr: held, chaddr: mac, options: clientOptions(MessageType.REQUEST, identity) });
}

/** RELEASE: ciaddr, the server (54) and the client id (61, the provided one if any). */
export function releaseMessage(identity: ClientIdentity, mac: Buffer, xid: number, held: Buffer, serverId: Buffer): DhcpMessage {
  const options = new Map<number, Buffer>([
    [Option.MESSAGE_TYPE, Buffer.from([MessageType.RELEASE])],
    [Option.SERVER_ID, serverId],
    [Option.CLIENT_ID, identity.provide.get(Option.CLIENT_ID) ?? clientIdOption(identity.clientId)],
  ]);
  return request({ xid, ciaddr: held, chaddr: mac, options });
}

const serverIdOf = (msg: DhcpMessage): Buffer | undefined => msg.options.get(Option.SERVER_ID);
const typeName = (type: number | undefined) => (type === undefined ? 'a message without type' : (MESSAGE_TYPE_NAMES[type] ?? `message type ${type}`));

/** The next pause between tries, as the reference's backoffRetry: 4 fast ones of 2 s ± 1, then 4 s ± 1 doubling up to `maxMs`. */
export function resendDelay(attempt: number, maxMs: number): number {
  const jitter = () => (Math.random() * 2 - 1) * 1000;
  if (attempt < FAST_RESENDS) return FAST_RESEND_MS + jitter();
  return Math.min(RESEND_DELAY_0_MS * 2 ** (attempt - FAST_RESENDS), maxMs) + jitter();
}

/**
 * DISCOVER, OFFER, REQUEST, ACK on `link` (RFC 2131 3.1), broadcast with the broadcast flag set so
 * that the server broadcasts its answers to an interface without an address. A NAK or a missing
 * answer starts over after a pause; after `resendTimeoutMs` the acquisition fails with 11 (try
 * again later). `hint` asks for an address held before (option 50 in the DISCOVER).
 */
export async function acquire(
  link: ClientLink,
  identity: ClientIdentity,
  timing: ClientTiming,
  options: { hint?: Buffer; signal?: AbortSignal; log?: (msg: string, fields?: Record<string, unknown>) => void } = {},
): Promise<Granted> {
  const { signal, log = () => undefined } = options;
  const started = Date.now();
  const deadline = started + timing.resendTimeoutMs;
  const exchange = Exchange.open(link);
  const seen: string[] = [];
  try {
    for (let attempt = 0; ; attempt++) {
      const xid = newXid();
      const secs = Math.min(0xffff, Math.floor((Date.now() - started) / 1000));
      exchange.send(discoverMessage(identity, link.mac, xid, secs, options.hint), { ip: BROADCAST_IP, mac: BROADCAST_MAC });
      const offer = await exchange.reply(xid, (m) => messageType(m) === MessageType.OFFER && !isZero(m.yiaddr), Math.min(timing.timeoutMs, deadline - Date.now()), signal);
      if (!offer) seen.push('DHCPDISCOVER without an offer');
      else {
        const serverId = serverIdOf(offer.msg) ?? offer.msg.siaddr;
        log('offered', { address: formatIPv4(offer.msg.yiaddr), server: formatIPv4(serverId) });
        exchange.send(selectingMessage(identity, link.mac, xid, secs, offer.msg.yiaddr, serverId), { ip: BROADCAST_IP, mac: BROADCAST_MAC });
        const answer = await exchange.reply(
          xid,
          (m) => {
            const type = messageType(m);
            const from = serverIdOf(m);
            return (type === MessageType.ACK || type === MessageType.NAK) && (!from || from.equals(serverId));
          },
          Math.min(timing.timeoutMs, Math.max(0, deadline - Date.now())),
          signal,
        );
        if (answer && messageType(answer.msg) === MessageType.ACK) return { ack: answer.msg, ackBytes: answer.bytes, serverMac: answer.sourceMac, at: Date.now() };
        seen.push(
          answer ? `DHCPNAK from ${formatIPv4(serverId)}${nakReason(answer.msg)}` : `DHCPREQUEST for ${formatIPv4(offer.msg.yiaddr)} to ${formatIPv4(serverId)} without an answer`,
        );
        log(seen[seen.length - 1]);
      }
      const pause = resendDelay(attempt, timing.resendMaxMs);
      if (Date.now() + pause >= deadline) break;
      await sleep(pause, signal);
    }
  } finally {
    exchange.close();
  }
  throw new CniError(
    ErrorCode.TryAgainLater,
    `dhcp: no lease for interface ${JSON.stringify(link.ifname)} after ${Math.round((Date.now() - started) / 100) / 10} s (${summarise(seen)}): is a DHCP server reachable from it?`,
  );
}

function nakReason(msg: DhcpMessage): string {
  const text = msg.options.get(Option.MESSAGE)?.toString('utf8');
  return text ? ` (${JSON.stringify(text)})` : '';
}

/** "3 × DHCPDISCOVER without an offer, 1 × DHCPNAK from ..." */
function summarise(seen: string[]): string {
  const counts = new Map<string, number>();
  for (const s of seen) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} × ${s}`).join(', ') || 'no try';
}

/** The outcome of one renewal or rebinding try. */
export type RenewOutcome = { granted: Granted } | { nak: string } | { none: true };

/**
 * One REQUEST for the address held (RFC 2131 4.3.2, 4.4.5): RENEWING sends it to the server that
 * granted the lease (its address, the link-layer address its DHCPACK came from), REBINDING to
 * everyone; either waits `timeoutMs` for the DHCPACK or DHCPNAK.
 */
export async function renew(link: ClientLink, identity: ClientIdentity, held: Granted, mode: 'renew' | 'rebind', timeoutMs: number, signal?: AbortSignal): Promise<RenewOutcome> {
  const exchange = Exchange.open(link);
  try {
    const xid = newXid();
    const serverId = serverIdOf(held.ack) ?? held.ack.siaddr;
    const to = mode === 'renew' && !isZero(serverId) ? { ip: serverId, mac: held.serverMac.length ? held.serverMac : BROADCAST_MAC } : { ip: BROADCAST_IP, mac: BROADCAST_MAC };
    exchange.send(renewingMessage(identity, link.mac, xid, held.ack.yiaddr), { ...to, from: held.ack.yiaddr });
    const answer = await exchange.reply(
      xid,
      (m) => {
        const type = messageType(m);
        return type === MessageType.ACK || type === MessageType.NAK;
      },
      timeoutMs,
      signal,
    );
    if (!answer) return { none: true };
    const type = messageType(answer.msg);
    if (type === MessageType.NAK) return { nak: `${typeName(type)} from ${formatIPv4(serverIdOf(answer.msg) ?? answer.msg.siaddr)}${nakReason(answer.msg)}` };
    if (!answer.msg.yiaddr.equals(held.ack.yiaddr)) return { nak: `DHCPACK for another address (${formatIPv4(answer.msg.yiaddr)})` };
    return { granted: { ack: answer.msg, ackBytes: answer.bytes, serverMac: answer.sourceMac, at: Date.now() } };
  } finally {
    exchange.close();
  }
}

/** DHCPRELEASE to the server of the lease (RFC 2131 4.4.6); nothing answers it. */
export function release(link: ClientLink, identity: ClientIdentity, held: Granted): void {
  const serverId = serverIdOf(held.ack) ?? held.ack.siaddr;
  const exchange = Exchange.open(link);
  try {
    exchange.send(releaseMessage(identity, link.mac, newXid(), held.ack.yiaddr, serverId), {
      ip: serverId,
      mac: held.serverMac.length ? held.serverMac : BROADCAST_MAC,
      from: held.ack.yiaddr,
    });
  } finally {
    exchange.close();
  }
}
