import { chmodSync, mkdirSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { dirname } from 'node:path';
import { CniError, ErrorCode } from '../../lib/errors';
import { unlinkIfExists } from '../../lib/fs';
import { log } from '../../lib/log';
import { toCniError } from '../../lib/skel/translate';
import { activatedSocket } from '../../lib/start/activation';
import { net } from '../../lib/start/builtins';
import { parseWith } from '../../lib/types';
import { AbortedError } from './client';
import { DaemonRequest, type DaemonResponse, MAX_LINE_BYTES } from './protocol';

export type Answer = Extract<DaemonResponse, { ok: true }>;
/** Does what a request asks; `signal` aborts when its client went away. */
export type RequestHandler = (request: DaemonRequest, signal: AbortSignal) => Promise<Answer>;

/**
 * The daemon's unix socket: the one systemd passed, or its own at `path`. One request per
 * connection, a JSON line in and a JSON line out; a failure goes back as the CNI error
 * lib/skel/translate makes of it. The client going away first aborts its request.
 */
export class SocketServer {
  private server?: Server;
  private readonly pending = new Set<AbortController>();
  /** Whether the socket file is ours to remove (not when systemd passed the socket). */
  private ownsSocket = false;
  private stopping = false;

  constructor(
    readonly path: string,
    private readonly handle: RequestHandler,
  ) {}

  /** Whether systemd passed the socket. */
  get activated(): boolean {
    return !this.ownsSocket;
  }

  async listen(): Promise<void> {
    const server = net().createServer({ allowHalfOpen: true }, (conn) => this.serve(conn));
    const activated = activatedSocket();
    if (activated !== undefined) {
      await listenOn(server, { fd: activated });
      this.server = server;
      return;
    }
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    if (await answers(this.path)) throw new Error(`another dhcp daemon is listening on ${JSON.stringify(this.path)}`);
    // a daemon that died left its socket file; nothing answers there
    unlinkIfExists(this.path);
    await listenOn(server, { path: this.path });
    this.server = server;
    this.ownsSocket = true;
    chmodSync(this.path, 0o660);
  }

  /** Aborts the requests under way, answers new ones "try again later", and closes the socket. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const controller of this.pending) controller.abort();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.ownsSocket) unlinkIfExists(this.path);
  }

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
      return await this.handle(request, signal);
    } catch (err) {
      if (err instanceof AbortedError) {
        log.info(this.stopping ? 'request abandoned: the daemon is stopping' : 'request abandoned: its client went away');
        return { ok: false, error: { code: ErrorCode.TryAgainLater, msg: 'aborted' } };
      }
      const { error, isBug } = toCniError(err);
      if (isBug) log.error('unexpected error', { stack: (err as Error)?.stack ?? String(err) });
      // the plugin reports this as its own error: say where it came from
      const msg = err instanceof CniError ? error.message : `dhcp daemon: ${error.message}`;
      return { ok: false, error: { code: error.code, msg, ...(error.details ? { details: error.details } : {}) } };
    }
  }
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
