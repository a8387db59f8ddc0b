import { DEFAULT_SOCKET_PATH } from './config';
import { DEFAULT_LEASE_DIR } from './store';

/** `dhcp daemon` as the reference takes it (Go's flag package), plus -leasedir. */
export interface DaemonFlags {
  pidfile: string;
  hostprefix: string;
  socketpath: string;
  broadcast: boolean;
  timeoutMs: number;
  resendMaxMs: number;
  resendTimeoutMs: number;
  leasedir: string;
}

export const USAGE = `Usage of dhcp daemon:
  -broadcast
    \tbroadcast DHCP leases (accepted for the reference's sake: the client always sets the broadcast flag)
  -hostprefix string
    \toptional prefix to host root (for the socket, the lease directory and the namespaces)
  -leasedir string
    \twhere leases are kept across restarts (default "${DEFAULT_LEASE_DIR}")
  -pidfile string
    \toptional path to write daemon PID to
  -resendmax duration
    \toptional dhcp client max resend delay between requests (default 1m2s)
  -resendtimeout duration
    \toptional dhcp client resend timeout, no more retries after this timeout (default 3m28s)
  -socketpath string
    \toptional dhcp server socketpath (default "${DEFAULT_SOCKET_PATH}")
  -timeout duration
    \toptional dhcp client timeout duration for each request (default 10s)
`;

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

/** Asked for with -h or -help. */
export class HelpRequested extends Error {}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds: "10s", "1m30s", "1.5h", "250ms"; a bare "0" is zero. */
export function parseDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest[0] === '-' ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  while (rest) {
    const number = /^(\d*\.?\d*)/.exec(rest)![1];
    if (number === '' || number === '.') return undefined;
    rest = rest.slice(number.length);
    const unit = /^([^\d.]+)/.exec(rest)?.[1];
    if (!unit || !(unit in UNITS)) return undefined;
    rest = rest.slice(unit.length);
    total += Number(number) * UNITS[unit];
  }
  return sign * total;
}

const STRINGS = { pidfile: 'pidfile', hostprefix: 'hostprefix', socketpath: 'socketpath', leasedir: 'leasedir' } as const;
const DURATIONS = { timeout: 'timeoutMs', resendmax: 'resendMaxMs', resendtimeout: 'resendTimeoutMs' } as const;

/**
 * Parses the arguments after `daemon` as Go's flag package does: `-name value`, `-name=value`,
 * one or two dashes, booleans as `-broadcast` or `-broadcast=false`; parsing stops at `--` or at
 * the first argument that is no flag, and arguments left over are refused.
 */
export function parseDaemonFlags(args: string[]): DaemonFlags {
  const flags: DaemonFlags = {
    pidfile: '',
    hostprefix: '',
    socketpath: '',
    broadcast: false,
    timeoutMs: 10_000,
    resendMaxMs: 62_000,
    resendTimeoutMs: 208_000,
    leasedir: '',
  };
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.slice(arg.startsWith('--') ? 2 : 1);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    if (name === 'h' || name === 'help') throw new HelpRequested();
    if (name === 'broadcast') {
      const value = inline ?? 'true';
      const parsed = parseBool(value);
      if (parsed === undefined) throw new FlagError(`invalid boolean value ${JSON.stringify(value)} for -broadcast`);
      flags.broadcast = parsed;
      continue;
    }
    const isString = Object.hasOwn(STRINGS, name);
    const isDuration = Object.hasOwn(DURATIONS, name);
    if (!isString && !isDuration) throw new FlagError(`flag provided but not defined: -${name}`);
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= args.length) throw new FlagError(`flag needs an argument: -${name}`);
      value = args[++i];
    }
    if (isString) flags[STRINGS[name as keyof typeof STRINGS]] = value;
    else {
      const ms = parseDuration(value);
      if (ms === undefined || ms < 0) throw new FlagError(`invalid value ${JSON.stringify(value)} for flag -${name}: expected a duration like 10s, 1m30s or 500ms`);
      flags[DURATIONS[name as keyof typeof DURATIONS]] = ms;
    }
  }
  if (i < args.length) throw new FlagError(`unexpected argument ${JSON.stringify(args[i])}`);
  return flags;
}

function parseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  return undefined;
}
