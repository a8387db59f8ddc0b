import { writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { LockTimeoutError } from '../../lib/errors';
import { unlinkIfExists } from '../../lib/fs';
import { Logger, log, setLogger, type LogLevel } from '../../lib/log';
import type { ClientIdentity } from './client';
import { FlagError, HelpRequested, USAGE, parseDaemonFlags, type DaemonFlags } from './flags';
import { LeaseKeeper } from './keeper';
import { type LeaseOwner, decodeOptions } from './lease';
import { kernelLeaseIO } from './lease-io';
import { clientIdOf } from './options';
import type { DaemonRequest } from './protocol';
import { releasedMarkers } from './released';
import { type Answer, SocketServer } from './socket-server';
import { DEFAULT_LEASE_DIR, LeaseStore } from './store';

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

/**
 * The daemon: its lease store, the keeper of the leases, and the socket that hands it the plugin's
 * requests.
 */
export class DhcpDaemon {
  private readonly store: LeaseStore;
  private readonly keeper: LeaseKeeper;
  private readonly server: SocketServer;
  private wrotePidfile = false;

  constructor(private readonly flags: DaemonFlags) {
    this.store = new LeaseStore(flags.leasedir || join(flags.hostprefix || '/', DEFAULT_LEASE_DIR));
    const timing = { timeoutMs: flags.timeoutMs, resendMaxMs: flags.resendMaxMs, resendTimeoutMs: flags.resendTimeoutMs };
    this.keeper = new LeaseKeeper(this.store, kernelLeaseIO(flags.hostprefix, timing));
    this.server = new SocketServer(flags.hostprefix + (flags.socketpath || '/run/cni/dhcp.sock'), (request, signal) => this.dispatch(request, signal));
  }

  async start(): Promise<void> {
    try {
      this.store.open();
    } catch (err) {
      if (err instanceof LockTimeoutError) throw new Error(`another dhcp daemon uses the lease directory ${JSON.stringify(this.store.dir)}`);
      throw err;
    }
    await this.server.listen();
    if (this.flags.pidfile) {
      writeFileSync(this.flags.pidfile, String(process.pid), { mode: 0o644 });
      this.wrotePidfile = true;
    }
    const records = this.store.load();
    log.info('listening', { socket: this.server.path, activated: this.server.activated, leaseDir: this.store.dir, leases: records.length });
    for (const record of records) void this.keeper.restore(record);
    // leases whose DEL came while no daemon was running (lib: released.ts)
    for (const marker of releasedMarkers(this.server.path)) void this.keeper.release(marker.clientId).then(() => marker.remove());
  }

  /** Stops serving and every timer; leases stay on disk (and with the servers) for the next daemon. */
  async stop(): Promise<void> {
    this.keeper.stop();
    await this.server.stop();
    if (this.wrotePidfile) unlinkIfExists(this.flags.pidfile);
    this.store.close();
  }

  private async dispatch(request: DaemonRequest, signal: AbortSignal): Promise<Answer> {
    switch (request.method) {
      case 'add': {
        const owner = ownerOf(request.attachment);
        const identity: ClientIdentity = { clientId: owner.clientId, provide: decodeOptions(request.provide), request: request.request };
        return { ok: true, lease: await this.keeper.add(owner, identity, signal) };
      }
      case 'check':
        return { ok: true, lease: await this.keeper.check(ownerOf(request.attachment)) };
      case 'del': {
        const { containerId, network, ifname } = request.attachment;
        await this.keeper.release(clientIdOf(containerId, network, ifname));
        return { ok: true };
      }
      case 'status':
        return { ok: true, leases: this.keeper.size };
      case 'gc':
        return { ok: true, released: await this.keeper.collectGarbage(request.network, request.valid) };
    }
  }
}

function ownerOf(a: { containerId: string; network: string; ifname: string; netns: string }): LeaseOwner {
  return { clientId: clientIdOf(a.containerId, a.network, a.ifname), containerId: a.containerId, network: a.network, ifname: a.ifname, netns: a.netns };
}
