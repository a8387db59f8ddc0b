import * as z from 'zod/mini';
import { CniError, ErrorCode } from '../../lib/errors';
import { net } from '../../lib/start/builtins';
import { parseWith } from '../../lib/types';

/**
 * The protocol between the dhcp plugin and its daemon (our own; the reference uses Go's net/rpc):
 * on the daemon's unix stream socket, the plugin writes one request as a JSON line, the daemon
 * answers with one JSON line and closes. The plugin closing its end first (before the answer)
 * aborts the request (a
 * runtime that killed the plugin on a timeout does not get a lease acquired after it gave up).
 */
export const PROTOCOL_VERSION = 1;

/** The largest line either side reads: a request or an answer is a few kilobytes. */
export const MAX_LINE_BYTES = 1024 * 1024;

const WireAttachment = z.object({
  containerId: z.string().check(z.minLength(1)),
  network: z.string().check(z.minLength(1)),
  ifname: z.string().check(z.minLength(1)),
});
const WithNetns = z.extend(WireAttachment, { netns: z.string().check(z.minLength(1)) });
const optionCode = z.int().check(z.gte(0), z.lte(255));

export const DaemonRequest = z.discriminatedUnion('method', [
  z.object({
    version: z.literal(PROTOCOL_VERSION),
    method: z.literal('add'),
    attachment: WithNetns,
    /** Options to send, as [code, base64 value]. */
    provide: z.array(z.tuple([optionCode, z.string()])),
    /** The parameter request list. */
    request: z.array(optionCode),
  }),
  z.object({ version: z.literal(PROTOCOL_VERSION), method: z.literal('check'), attachment: WithNetns }),
  z.object({ version: z.literal(PROTOCOL_VERSION), method: z.literal('del'), attachment: WireAttachment }),
  z.object({ version: z.literal(PROTOCOL_VERSION), method: z.literal('status') }),
  z.object({
    version: z.literal(PROTOCOL_VERSION),
    method: z.literal('gc'),
    network: z.string().check(z.minLength(1)),
    valid: z.array(z.object({ containerId: z.string(), ifname: z.string() })),
  }),
]);
export type DaemonRequest = z.infer<typeof DaemonRequest>;

export const LeaseAnswer = z.object({
  /** The DHCPACK the lease stands on, as base64 of its bytes. */
  ack: z.string(),
  expiresAt: z.number(),
});
export type LeaseAnswer = z.infer<typeof LeaseAnswer>;

export const DaemonResponse = z.union([
  z.object({
    ok: z.literal(true),
    lease: z.optional(LeaseAnswer),
    leases: z.optional(z.int()),
    released: z.optional(z.array(z.string())),
  }),
  z.object({ ok: z.literal(false), error: z.object({ code: z.int(), msg: z.string(), details: z.optional(z.string()) }) }),
]);
export type DaemonResponse = z.infer<typeof DaemonResponse>;

/** Nothing listens on the daemon's socket (no file, or nobody accepting): the daemon is not running. */
export class DaemonUnreachableError extends Error {
  constructor(
    readonly socketPath: string,
    readonly reason: string,
  ) {
    super(`cannot reach the dhcp daemon at ${JSON.stringify(socketPath)}: ${reason}; start it with "dhcp daemon" (or: systemctl start cni-ts-dhcp.socket)`);
    this.name = 'DaemonUnreachableError';
  }
}

const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'ENOTDIR']);

/**
 * Sends one request and resolves with the daemon's answer (a failure answer becomes its CniError).
 * A daemon that is not there is a DaemonUnreachableError; one that hangs up or answers garbage is
 * an I/O error (5).
 */
export function callDaemon(socketPath: string, request: DaemonRequest): Promise<Extract<DaemonResponse, { ok: true }>> {
  return new Promise((resolve, reject) => {
    const conn = net().createConnection(socketPath);
    const chunks: Buffer[] = [];
    let size = 0;
    let connected = false;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      conn.destroy();
      reject(err);
    };
    conn.on('connect', () => {
      connected = true;
      // not end(): the daemon takes our end of the connection closing for the plugin giving up
      conn.write(`${JSON.stringify(request)}\n`);
    });
    conn.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_LINE_BYTES) fail(new CniError(ErrorCode.IOFailure, `the dhcp daemon at ${JSON.stringify(socketPath)} answered more than ${MAX_LINE_BYTES} bytes`));
      else chunks.push(chunk);
    });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && err.code && UNREACHABLE.has(err.code)) fail(new DaemonUnreachableError(socketPath, err.code === 'ENOENT' ? 'no such socket' : err.code));
      else fail(new CniError(ErrorCode.IOFailure, `talking to the dhcp daemon at ${JSON.stringify(socketPath)}: ${err.message}`));
    });
    conn.on('close', () => {
      if (settled) return;
      settled = true;
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) {
        reject(new CniError(ErrorCode.IOFailure, `the dhcp daemon at ${JSON.stringify(socketPath)} closed the connection without an answer`));
        return;
      }
      let answer: DaemonResponse;
      try {
        answer = parseWith(DaemonResponse, JSON.parse(text), 'dhcp daemon answer', ErrorCode.IOFailure);
      } catch (err) {
        reject(
          err instanceof CniError
            ? err
            : new CniError(ErrorCode.IOFailure, `the dhcp daemon at ${JSON.stringify(socketPath)} answered something that is not JSON: ${JSON.stringify(text.slice(0, 200))}`),
        );
        return;
      }
      if (answer.ok) resolve(answer);
      else reject(new CniError(answer.error.code, answer.error.msg, answer.error.details ?? ''));
    });
  });
}
