/**
 * The frames between bin/<type> (lib/workers/client.c) and a worker. Text lines from the worker:
 * the hello, or `refused` instead of it for a caller it does not serve (the client then execs the
 * plugin itself); after the request, `fallback` (nothing was done: the client execs the plugin) or
 * `exit <code>` once the plugin has written its answer to the client's own stdout and stderr.
 * The request: "CNTR", u32 protocol, u32 body length (little-endian), then NUL-terminated strings:
 * type, working directory, umask (octal), then one "NAME=value" per environment variable.
 */
export const PROTOCOL = 1;
export const HEADER_BYTES = 12;
/** The environment of a CNI call is a few KiB; a frame beyond this is not one. */
export const MAX_BODY_BYTES = 1 << 20;

export const helloLine = (buildId: string): string => `cni-ts-worker ${PROTOCOL} ${buildId}\n`;
export const REFUSED_LINE = 'refused\n';
export const FALLBACK_LINE = 'fallback\n';
export const exitLine = (code: number): string => `exit ${code}\n`;
export const errorLine = (why: string): string => `error ${why.replace(/\n/g, ' ')}\n`;

export interface WorkerRequest {
  type: string;
  cwd: string;
  umask: number;
  env: Record<string, string>;
}

/** A request that is not one: the worker answers an error line and serves the next connection. */
export class FrameError extends Error {}

/** The body length a request's header announces. */
export function bodyLength(header: Buffer): number {
  if (header.length < HEADER_BYTES || header.toString('latin1', 0, 4) !== 'CNTR') throw new FrameError('not a cni-ts request');
  const version = header.readUInt32LE(4);
  if (version !== PROTOCOL) throw new FrameError(`protocol ${version}, this worker speaks ${PROTOCOL}`);
  const length = header.readUInt32LE(8);
  if (length > MAX_BODY_BYTES) throw new FrameError(`a body of ${length} bytes is over the limit of ${MAX_BODY_BYTES}`);
  return length;
}

export function parseBody(body: Buffer): WorkerRequest {
  if (body.length === 0 || body[body.length - 1] !== 0) throw new FrameError('the body does not end with a NUL');
  const [type, cwd, umask, ...variables] = body.toString('utf8', 0, body.length - 1).split('\0');
  if (!type || !/^[a-z0-9][a-z0-9._-]*$/.test(type)) throw new FrameError(`plugin type ${JSON.stringify(type)} is not a plugin name`);
  if (!cwd?.startsWith('/')) throw new FrameError('the working directory is not an absolute path');
  if (!/^[0-7]{1,4}$/.test(umask ?? '')) throw new FrameError(`umask ${JSON.stringify(umask)} is not octal`);
  const env: Record<string, string> = {};
  for (const variable of variables) {
    const eq = variable.indexOf('=');
    if (eq <= 0) throw new FrameError(`environment entry ${JSON.stringify(variable.slice(0, 40))} has no name`);
    env[variable.slice(0, eq)] = variable.slice(eq + 1);
  }
  return { type, cwd, umask: Number.parseInt(umask, 8), env };
}
