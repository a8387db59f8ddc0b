import { activatedSocket } from '../../lib/start/activation';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { CniError, ErrorCode, LockTimeoutError, NetlinkError, NetnsNotFoundError, NotANetnsError, SyscallError } from '../../lib/errors';
import { unlinkIfExists } from '../../lib/fs';
import { Logger, log, setLogger, type LogLevel } from '../../lib/log';
import { net } from '../../lib/start/builtins';
import { formatMac, macToBytes } from '../../lib/netlink';
import { parseWith } from '../../lib/types';
import { AbortedError, type ClientIdentity, type ClientTiming, type Granted, acquire, release, renew } from './client';
import { FlagError, HelpRequested, USAGE, parseDaemonFlags, type DaemonFlags } from './flags';
import { type LeaseOwner, type LeaseRecord, type LeaseTimes, decodeOptions, leaseRecord, leaseTimes, nextStep, retryDelay } from './lease';
import { type ClientLink, findLink, prepareLink, takeLinkDown } from './link';
import { decodeMessage, formatIPv4 } from './message';
import { clientIdOf } from './options';
import { releasedMarkers } from './released';
import { DaemonRequest, type DaemonResponse, MAX_LINE_BYTES, type LeaseAnswer } from './protocol';
import { leaseResult } from './result';
import { DEFAULT_LEASE_DIR, LeaseStore } from './store';

const _SIGTERM = 15;
/** setTimeout's longest delay is 2^31-1 ms (24.8 days); longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The shortest pause between two unanswered renewal (or rebinding) tries. */
const RENEW_RETRY_MIN_MS = 10_000;

/**
 * `dhcp daemon [flags]`: serves the dhcp plugin on a unix socket until SIGTERM or SIGINT, holding
 * each container's lease and renewing it (T1: with the server that granted it, T2: with any),
 * and keeping every lease on disk so that a restarted daemon goes on renewing it. Returns the exit code.
 */
export async function runDaemon(args: string[]): Promise<number> {
  let flags: DaemonFlags;
  try {
    flags = parseDaemonFlags(args);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stderr.write(USAGE);
      return 0;
    }
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}`);
    return 2;
  }
  const env = process.env;
  setLogger(new Logger({ plugin: 'dhcp', command: 'daemon' }, (line) => process.stderr.write(line), env.CNI_LOG_FILE, (env.CNI_LOG_LEVEL as LogLevel | undefined) ?? 'info'));
  if (flags.pidfile && !isAbsolute(flags.pidfile)) {
    log.error(`Error writing pidfile ${JSON.stringify(flags.pidfile)}: path not absolute`);
    return 1;
  }
  const daemon = new DhcpDaemon(flags);
  try {
    await daemon.start();
  } catch (err) {
    log.error('cannot start the dhcp daemon', { error: (err as Error).message });
    await daemon.stop();
    return 1;
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      // listening on: a second signal (the launcher's death signal after systemd's, say) must not kill the clean-up
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      resolve();
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  await daemon.stop();
  return 0;
}

/** Runs async jobs one at a time per key (a lease's client id), in order; different keys run side by side. */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(job, job);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/** A lease the daemon holds: what it was asked for, what it got, and the timer of its next renewal. */
interface HeldLease {
  owner: LeaseOwner;
  identity: ClientIdentity;
  mac: Buffer;
  granted: Granted;
  times: LeaseTimes;
  timer?: NodeJS.Timeout;
  stopped: boolean;
}

type Ok = Extract<DaemonResponse, { ok: true }>;

export class DhcpDaemon {
  private readonly leases = new Map<string, HeldLease>();
  private readonly queue = new KeyedQueue();
  private readonly store: LeaseStore;
  private readonly timing: ClientTiming;
  private readonly socketPath: string;
  private readonly pending = new Set<AbortController>();
  private server?: Server;
  /** Whether the socket file is ours to remove (not when systemd passed the socket). */
  private ownsSocket = false;
  private stopping = false;
  private wrotePidfile = false;

  constructor(private readonly flags: DaemonFlags) {
    this.store = new LeaseStore(flags.leasedir || join(flags.hostprefix || '/', DEFAULT_LEASE_DIR));
    this.timing = { timeoutMs: flags.timeoutMs, resendMaxMs: flags.resendMaxMs, resendTimeoutMs: flags.resendTimeoutMs };
    this.socketPath = flags.hostprefix + (flags.socketpath || '/run/cni/dhcp.sock');
  }

  async start(): Promise<void> {
    try {
      this.store.open();
    } catch (err) {
      if (err instanceof LockTimeoutError) throw new Error(`another dhcp daemon uses the lease directory ${JSON.stringify(this.store.dir)}`);
      throw err;
    }
    this.server = await this.listen();
    if (this.flags.pidfile) {
      writeFileSync(this.flags.pidfile, String(process.pid), { mode: 0o644 });
      this.wrotePidfile = true;
    }
    const records = this.store.load();
    log.info('listening', { socket: this.socketPath, activated: !this.ownsSocket, leaseDir: this.store.dir, leases: records.length });
    for (const record of records) void this.queue.run(record.clientId, () => this.restore(record));
    // leases whose DEL came while no daemon was running (lib: released.ts)
    for (const marker of releasedMarkers(this.socketPath)) {
      void this.queue.run(marker.clientId, async () => {
        const lease = this.leases.get(marker.clientId);
        if (lease) await this.drop(lease, 'released', true);
        marker.remove();
        return { ok: true };
      });
    }
  }

  /** Stops serving and every timer; leases stay on disk (and with the servers) for the next daemon. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const controller of this.pending) controller.abort();
    for (const lease of this.leases.values()) this.stopTimer(lease);
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.ownsSocket) unlinkIfExists(this.socketPath);
    if (this.wrotePidfile) unlinkIfExists(this.flags.pidfile);
    this.store.close();
  }

  // ---- the socket ----

  private async listen(): Promise<Server> {
    const server = net().createServer({ allowHalfOpen: true }, (conn) => this.serve(conn));
    const activated = activatedSocket();
    if (activated !== undefined) {
      await listenOn(server, { fd: activated });
      return server;
    }
    mkdirSync(dirname(this.socketPath), { recursive: true, mode: 0o700 });
    if (await answers(this.socketPath)) throw new Error(`another dhcp daemon is listening on ${JSON.stringify(this.socketPath)}`);
    // a daemon that died left its socket file; nothing answers there
    unlinkIfExists(this.socketPath);
    await listenOn(server, { path: this.socketPath });
    this.ownsSocket = true;
    chmodSync(this.socketPath, 0o660);
    return server;
  }

  /** One request per connection: a JSON line in, a JSON line out. The client going away first aborts it. */
  private serve(conn: Socket): void {
    const controller = new AbortController();
    let text = '';
    let answered = false;
    let started = false;
    const giveUp = () => {
      if (!answered) controller.abort();
    };
    conn.on('end', giveUp);
    conn.on('close', giveUp);
    conn.on('error', giveUp);
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      if (started) return;
      text += chunk;
      const newline = text.indexOf('\n');
      if (newline < 0 && text.length <= MAX_LINE_BYTES) return;
      started = true;
      this.pending.add(controller);
      void this.answer(newline < 0 ? undefined : text.slice(0, newline), controller.signal)
        .then((response) => {
          answered = true;
          if (!conn.destroyed && !controller.signal.aborted) conn.end(`${JSON.stringify(response)}\n`);
        })
        .finally(() => this.pending.delete(controller));
    });
  }

  private async answer(line: string | undefined, signal: AbortSignal): Promise<DaemonResponse> {
    try {
      if (line === undefined) throw new CniError(ErrorCode.DecodingFailure, `request longer than ${MAX_LINE_BYTES} bytes`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (err) {
        throw new CniError(ErrorCode.DecodingFailure, `the request is not JSON: ${(err as Error).message}`);
      }
      const request = parseWith(DaemonRequest, parsed, 'dhcp daemon request', ErrorCode.DecodingFailure);
      if (this.stopping) throw new CniError(ErrorCode.TryAgainLater, 'the dhcp daemon is stopping');
      return await this.dispatch(request, signal);
    } catch (err) {
      if (err instanceof AbortedError) return { ok: false, error: { code: ErrorCode.TryAgainLater, msg: 'aborted' } };
      const error = asCniError(err);
      if (error.code === ErrorCode.Internal) log.error('unexpected error', { stack: (err as Error)?.stack ?? String(err) });
      return { ok: false, error: { code: error.code, msg: error.message, ...(error.details ? { details: error.details } : {}) } };
    }
  }

  private dispatch(request: DaemonRequest, signal: AbortSignal): Promise<Ok> {
    switch (request.method) {
      case 'add': {
        const owner = this.ownerOf(request.attachment);
        const identity: ClientIdentity = { clientId: owner.clientId, provide: decodeOptions(request.provide), request: request.request };
        return this.queue.run(owner.clientId, () => this.add(owner, identity, signal));
      }
      case 'check': {
        const owner = this.ownerOf(request.attachment);
        return this.queue.run(owner.clientId, () => this.check(owner));
      }
      case 'del': {
        const clientId = clientIdOf(request.attachment.containerId, request.attachment.network, request.attachment.ifname);
        return this.queue.run(clientId, async () => {
          const lease = this.leases.get(clientId);
          if (lease) await this.drop(lease, 'released', true);
          return { ok: true };
        });
      }
      case 'status':
        return Promise.resolve({ ok: true, leases: this.leases.size });
      case 'gc':
        return this.collectGarbage(request.network, request.valid);
    }
  }

  private ownerOf(a: { containerId: string; network: string; ifname: string; netns: string }): LeaseOwner {
    return { clientId: clientIdOf(a.containerId, a.network, a.ifname), containerId: a.containerId, network: a.network, ifname: a.ifname, netns: a.netns };
  }

  private netnsPath(netns: string): string {
    return this.flags.hostprefix + netns;
  }

  // ---- the verbs ----

  /**
   * The lease of this attachment: the one held when it is still valid on the same interface (a
   * repeated ADD, or one after a daemon restart), else a new one.
   */
  private async add(owner: LeaseOwner, identity: ClientIdentity, signal: AbortSignal): Promise<Ok> {
    const existing = this.leases.get(owner.clientId);
    if (existing) {
      const link = await findLink(this.netnsPath(owner.netns), owner.ifname);
      const same = link?.mac === formatMac(existing.mac) && existing.owner.netns === owner.netns && Date.now() < existing.times.expiresAt;
      if (same) {
        log.info('lease already held', { clientId: owner.clientId, address: formatIPv4(existing.granted.ack.yiaddr) });
        return { ok: true, lease: answerOf(existing) };
      }
      await this.drop(existing, 'replaced: the interface or namespace changed, or the lease expired', true);
    }
    const link = await prepareLink(this.netnsPath(owner.netns), owner.ifname);
    log.info('acquiring lease', { clientId: owner.clientId, netns: owner.netns, ifname: owner.ifname });
    const granted = await acquire(link, identity, this.timing, { signal, log: (msg, fields) => log.info(msg, { clientId: owner.clientId, ...fields }) });
    try {
      leaseResult(granted.ack, '1.1.0');
    } catch (err) {
      // a lease we cannot use goes back to the server
      release(link, identity, granted);
      throw err;
    }
    const lease: HeldLease = { owner, identity, mac: link.mac, granted, times: leaseTimes(granted.ack, granted.at), stopped: false };
    this.leases.set(owner.clientId, lease);
    this.persist(lease);
    log.info('lease acquired', { clientId: owner.clientId, address: formatIPv4(granted.ack.yiaddr), expires: new Date(lease.times.expiresAt).toISOString() });
    this.schedule(lease);
    return { ok: true, lease: answerOf(lease) };
  }

  private async check(owner: LeaseOwner): Promise<Ok> {
    const lease = this.leases.get(owner.clientId);
    const what = `container ${JSON.stringify(owner.containerId)} interface ${JSON.stringify(owner.ifname)} of network ${JSON.stringify(owner.network)}`;
    if (!lease || Date.now() >= lease.times.expiresAt) throw new CniError(ErrorCode.AllocationMissing, `dhcp: the daemon holds no lease for ${what}`);
    const link = await findLink(this.netnsPath(owner.netns), owner.ifname);
    if (!link || link.mac !== formatMac(lease.mac)) {
      throw new CniError(ErrorCode.CheckFailed, `dhcp: the lease of ${what} is for ${formatMac(lease.mac)}, and the interface ${link ? `has ${link.mac}` : 'is gone'}`);
    }
    return { ok: true, lease: answerOf(lease) };
  }

  /** Releases the leases of `network` whose attachment is not in `valid`. */
  private async collectGarbage(network: string, valid: Array<{ containerId: string; ifname: string }>): Promise<Ok> {
    const keep = new Set(valid.map((a) => `${a.containerId}\0${a.ifname}`));
    const stale = [...this.leases.values()].filter((l) => l.owner.network === network && !keep.has(`${l.owner.containerId}\0${l.owner.ifname}`));
    const released: string[] = [];
    for (const lease of stale) {
      await this.queue.run(lease.owner.clientId, async () => {
        if (this.leases.get(lease.owner.clientId) !== lease) return;
        await this.drop(lease, 'garbage collected', true);
        released.push(lease.owner.clientId);
      });
    }
    return { ok: true, released };
  }

  /** Forgets a lease (timer, memory, disk) and, when asked and the interface is still there, releases it. */
  private async drop(lease: HeldLease, why: string, sendRelease: boolean): Promise<void> {
    this.stopTimer(lease);
    lease.stopped = true;
    if (this.leases.get(lease.owner.clientId) === lease) this.leases.delete(lease.owner.clientId);
    this.store.remove(lease.owner.clientId);
    log.info(`lease ${why}`, { clientId: lease.owner.clientId, address: formatIPv4(lease.granted.ack.yiaddr) });
    if (!sendRelease) return;
    try {
      const link = await this.currentLink(lease);
      if (link) release(link, lease.identity, lease.granted);
    } catch (err) {
      if (!(err instanceof NetnsNotFoundError)) log.warn('could not send DHCPRELEASE', { clientId: lease.owner.clientId, error: (err as Error).message });
    }
  }

  /** The lease's interface now, or undefined when it (or its namespace) is gone or carries another MAC. */
  private async currentLink(lease: HeldLease): Promise<ClientLink | undefined> {
    const netns = this.netnsPath(lease.owner.netns);
    let link: Awaited<ReturnType<typeof findLink>>;
    try {
      link = await findLink(netns, lease.owner.ifname);
    } catch (err) {
      if (err instanceof NetnsNotFoundError || err instanceof NotANetnsError) return undefined;
      throw err;
    }
    if (!link || link.mac !== formatMac(lease.mac)) return undefined;
    return { netns, ifname: lease.owner.ifname, index: link.index, mac: lease.mac };
  }

  private persist(lease: HeldLease): void {
    this.store.save(leaseRecord(lease.owner, formatMac(lease.mac), lease.identity.provide, lease.identity.request, lease.granted));
  }

  // ---- keeping leases ----

  private stopTimer(lease: HeldLease): void {
    if (lease.timer) clearTimeout(lease.timer);
    lease.timer = undefined;
  }

  private schedule(lease: HeldLease, delay?: number): void {
    this.stopTimer(lease);
    if (lease.stopped || this.stopping) return;
    const step = nextStep(lease.times, Date.now());
    const ms = delay ?? ('wait' in step ? step.wait : 0);
    lease.timer = setTimeout(() => void this.queue.run(lease.owner.clientId, () => this.maintain(lease)), Math.min(ms, MAX_TIMER_MS));
  }

  /** T1, T2 and expiry (RFC 2131 4.4.5): renew, rebind, or try a new lease (asking for the same address). */
  private async maintain(lease: HeldLease): Promise<void> {
    if (lease.stopped || this.stopping) return;
    const now = Date.now();
    const step = nextStep(lease.times, now);
    if ('wait' in step) {
      this.schedule(lease);
      return;
    }
    const id = { clientId: lease.owner.clientId };
    let link: ClientLink | undefined;
    try {
      link = await this.currentLink(lease);
    } catch (err) {
      log.warn('cannot look at the interface; trying again later', { ...id, error: (err as Error).message });
      this.schedule(lease, RENEW_RETRY_MIN_MS);
      return;
    }
    if (!link) {
      log.info('the interface or its namespace is gone: forgetting the lease', { ...id, netns: lease.owner.netns, ifname: lease.owner.ifname });
      await this.drop(lease, 'forgotten', false);
      return;
    }
    if ('expired' in step) {
      await this.reacquire(lease, link, 'expired');
      return;
    }
    const mode = 'renew' in step ? 'renew' : 'rebind';
    log.info(mode === 'renew' ? 'renewing lease' : 'rebinding lease', id);
    let outcome: Awaited<ReturnType<typeof renew>>;
    try {
      outcome = await renew(link, lease.identity, lease.granted, mode, this.timing.timeoutMs);
    } catch (err) {
      log.warn(`${mode} failed`, { ...id, error: (err as Error).message });
      outcome = { none: true };
    }
    if ('granted' in outcome) {
      this.grant(lease, outcome.granted);
      log.info(mode === 'renew' ? 'lease renewed' : 'lease rebound', { ...id, expires: new Date(lease.times.expiresAt).toISOString() });
      this.schedule(lease);
    } else if ('nak' in outcome) {
      log.warn(`${mode}: ${outcome.nak}`, id);
      await this.reacquire(lease, link, 'refused');
    } else {
      const until = mode === 'renew' ? lease.times.rebindAt : lease.times.expiresAt;
      log.info(`no answer to the ${mode === 'renew' ? 'renewal' : 'rebinding'}; trying again`, id);
      this.schedule(lease, retryDelay(Date.now(), until, RENEW_RETRY_MIN_MS));
    }
  }

  private grant(lease: HeldLease, granted: Granted): void {
    lease.granted = granted;
    lease.times = leaseTimes(granted.ack, granted.at);
    this.persist(lease);
  }

  /**
   * The lease expired or was refused: the address may no longer be used. One acquisition asking
   * for it again; when that fails, the interface goes down and the lease is forgotten, as the
   * reference does at expiry.
   */
  private async reacquire(lease: HeldLease, link: ClientLink, why: string): Promise<void> {
    const id = { clientId: lease.owner.clientId };
    const before = lease.granted.ack.yiaddr;
    log.warn(`lease ${why}: asking for a new one`, { ...id, address: formatIPv4(before) });
    try {
      const granted = await acquire(link, lease.identity, this.timing);
      leaseResult(granted.ack, '1.1.0');
      if (lease.stopped) {
        release(link, lease.identity, granted);
        return;
      }
      if (!granted.ack.yiaddr.equals(before))
        log.warn('the new lease has another address; the container still has the old one', { ...id, old: formatIPv4(before), new: formatIPv4(granted.ack.yiaddr) });
      this.grant(lease, granted);
      this.schedule(lease);
    } catch (err) {
      if (lease.stopped) return;
      log.warn('no new lease: taking the interface down', { ...id, ifname: lease.owner.ifname, error: (err as Error).message });
      await takeLinkDown(link.netns, link.ifname).catch((e: Error) => log.warn('cannot take the interface down', { ...id, error: e.message }));
      await this.drop(lease, 'lost', false);
    }
  }

  /** A lease from the disk after a restart: kept when its interface is still there, renewed as due. */
  private async restore(record: LeaseRecord): Promise<void> {
    const ack = decodeMessage(Buffer.from(record.ack, 'base64'));
    if (!ack) {
      log.warn('dropping a stored lease whose DHCPACK cannot be read', { clientId: record.clientId });
      this.store.remove(record.clientId);
      return;
    }
    const lease: HeldLease = {
      owner: { clientId: record.clientId, containerId: record.containerId, network: record.network, ifname: record.ifname, netns: record.netns },
      identity: { clientId: record.clientId, provide: decodeOptions(record.provide), request: record.request },
      mac: macToBytes(record.mac),
      granted: { ack, ackBytes: Buffer.from(record.ack, 'base64'), serverMac: Buffer.from(record.serverMac, 'hex'), at: record.at },
      times: leaseTimes(ack, record.at),
      stopped: false,
    };
    let link: ClientLink | undefined;
    try {
      link = await this.currentLink(lease);
    } catch (err) {
      log.warn('cannot look at the interface of a stored lease; keeping it', { clientId: record.clientId, error: (err as Error).message });
      this.leases.set(record.clientId, lease);
      this.schedule(lease, RENEW_RETRY_MIN_MS);
      return;
    }
    if (!link) {
      log.info('dropping a stored lease: its interface or namespace is gone', { clientId: record.clientId, netns: record.netns, ifname: record.ifname });
      this.store.remove(record.clientId);
      return;
    }
    this.leases.set(record.clientId, lease);
    log.info('lease restored', { clientId: record.clientId, address: formatIPv4(ack.yiaddr), expires: new Date(lease.times.expiresAt).toISOString() });
    this.schedule(lease);
  }
}

function answerOf(lease: HeldLease): LeaseAnswer {
  return { ack: lease.granted.ackBytes.toString('base64'), expiresAt: lease.times.expiresAt };
}

/** What the plugin is told about a failure: CNI errors as they are, namespace and kernel errors with their codes, anything else as a bug (999). */
function asCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof NetnsNotFoundError || err instanceof NotANetnsError) return new CniError(ErrorCode.InvalidNetns, `dhcp daemon: ${err.message}`);
  if (err instanceof NetlinkError || err instanceof SyscallError) return new CniError(ErrorCode.LinkFailure, `dhcp daemon: ${err.message}`);
  return new CniError(ErrorCode.Internal, `dhcp daemon: ${(err as Error)?.message ?? String(err)}`);
}

function listenOn(server: Server, where: { fd: number } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Whether something accepts connections on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net().createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
