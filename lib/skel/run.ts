import { appendFileSync } from 'node:fs';
import { CniError, ErrorCode } from '../errors';
import { log, Logger, setLogger, type LogLevel } from '../log';
import { assertNetns, isCurrentNetns, netnsExists } from '../netns';
import {
  CURRENT_VERSION,
  NetConf,
  Result,
  SUPPORTED_VERSIONS,
  ValidAttachments,
  goField,
  isSupportedVersion,
  lenientNetConf,
  parseWith,
  resultFromAnyVersion,
  resultToVersion,
  versionAtLeast,
} from '../types';
import { parseCniArgs } from './cni-args';
import { MINIMUM_VERSION, REQUIRED_ENV, VERBS, type About, type CmdArgs, type PluginVerbs, type Verb } from './cmd-args';
import { processIO, type PluginIO } from './io';
import { callOriginMs, startMode } from '../start/suite';
import { toCniError } from './translate';
import { validateContainerId, validateInterfaceName, validateNetworkName } from './validate';

/** Stdin larger than this is not a network config; refuse it before parsing. */
const MAX_STDIN_BYTES = 4 * 1024 * 1024;
/**
 * Arrays and objects nested deeper than this are not a network config (a real one nests about 6:
 * prevResult.interfaces[0], ipam.ranges[0][0]); refuse them before anything is done. JSON.parse
 * accepts any depth, but JSON.stringify recurses and overflows the stack at a few thousand, so a
 * chained plugin echoing a deep field of prevResult failed only when printing its result.
 */
const MAX_NESTING_DEPTH = 64;

/**
 * The CNI protocol: reads the environment and stdin, dispatches to the verb, prints the result
 * (converted to the config's cniVersion) or one error object on stdout. Returns the exit code.
 */
export async function runPlugin(verbs: PluginVerbs, about: About, io: PluginIO = processIO): Promise<number> {
  const command = io.env.CNI_COMMAND;
  const logger = new Logger(
    { plugin: about.name, command, containerId: io.env.CNI_CONTAINERID, ifname: io.env.CNI_IFNAME },
    io.writeStderr,
    io.env.CNI_LOG_FILE,
    io.env.CNI_LOG_LEVEL as LogLevel | undefined,
  );
  setLogger(logger);
  const timing = io.env.CNI_TS_TIMING ? startTiming(io, io.env.CNI_TS_TIMING) : undefined;
  let cniVersion = CURRENT_VERSION;
  try {
    if (!command) {
      io.writeStderr(`CNI ${about.name} plugin v${about.version}\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\n`);
      return 0;
    }
    if (command === 'VERSION') {
      io.writeStdout(JSON.stringify(versionInfo(io)) + '\n');
      return 0;
    }
    if (!(VERBS as readonly string[]).includes(command)) {
      throw new CniError(ErrorCode.InvalidEnvironment, `unknown CNI_COMMAND ${JSON.stringify(command)}: expected one of ADD, DEL, CHECK, STATUS, GC, VERSION`);
    }
    const verb = command as Verb;
    const cmd = readCmdArgs(verb, io, (v) => (cniVersion = v));
    logger.debug('invoked');
    timing?.verbStarts();
    if (verb === 'ADD') {
      const result = await verbs.add(cmd);
      io.writeStdout(JSON.stringify(resultToVersion(result, cmd.cniVersion)) + '\n');
    } else if (verb === 'DEL') await verbs.del(cmd);
    else if (verb === 'CHECK') await verbs.check(cmd);
    else if (verb === 'STATUS') await verbs.status?.(cmd);
    else await verbs.gc?.(cmd);
    timing?.verbEnds();
    return 0;
  } catch (err) {
    const { error, isBug } = toCniError(err);
    if (isBug) logger.error('unexpected error', { stack: (err as Error)?.stack ?? String(err) });
    else logger.info('failed', { code: error.code, error: error.message });
    io.writeStdout(JSON.stringify({ cniVersion, code: error.code, msg: error.message, details: error.details }) + '\n');
    return 1;
  } finally {
    timing?.report();
  }
}

/**
 * CNI_TS_TIMING=1: one JSON line on stderr (CNI_TS_TIMING=<absolute path>: appended to that file) with the milliseconds since the process (a warm worker: the call) started at which the plugin's code began and ended, how long the verb itself
 * took (its kernel and disk work with the JavaScript driving it) and the peak resident memory, so
 * a benchmark can tell start-up from work.
 */
function startTiming(io: PluginIO, target: string): { verbStarts(): void; verbEnds(): void; report(): void } {
  // process.uptime, not performance.now: that would load node:perf_hooks (a millisecond) just to measure
  const now = () => process.uptime() * 1000 - callOriginMs();
  const started = now();
  let verbStarted: number | undefined;
  let verbMs: number | undefined;
  return {
    verbStarts: () => void (verbStarted = now()),
    verbEnds: () => void (verbMs = verbStarted === undefined ? undefined : now() - verbStarted),
    report: () => {
      const timing = {
        startedFrom: startMode(),
        pluginStartMs: started,
        verbMs,
        endMs: now(),
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
      };
      const line = `${JSON.stringify({ timing })}\n`;
      if (target.startsWith('/')) appendFileSync(target, line);
      else io.writeStderr(line);
    },
  };
}

function versionInfo(io: PluginIO): { cniVersion: string; supportedVersions: readonly string[] } {
  let asked: unknown;
  try {
    asked = goField(JSON.parse(io.readStdin().toString('utf8') || '{}'), 'cniVersion');
  } catch {
    // VERSION answers whatever stdin holds, as the Go skel does
  }
  const cniVersion = typeof asked === 'string' && isSupportedVersion(asked) ? asked : CURRENT_VERSION;
  return { cniVersion, supportedVersions: SUPPORTED_VERSIONS };
}

function readCmdArgs(verb: Verb, io: PluginIO, noteVersion: (v: string) => void): CmdArgs {
  const env = io.env;
  const missing = REQUIRED_ENV[verb].filter((name) => !env[name]);
  if (missing.length) {
    throw new CniError(ErrorCode.InvalidEnvironment, `required environment variables missing: ${missing.join(', ')}`);
  }
  const { raw, stdin } = readConfig(io, verb);
  const version = goField(raw, 'cniVersion');
  if (typeof version === 'string') noteVersion(version);
  const config = verb === 'DEL' ? lenientConfig(raw) : parseWith(NetConf, raw, 'network config');
  checkVersion(verb, config.cniVersion);
  validateNetworkName(config.name);

  const cmd: CmdArgs = {
    command: verb,
    containerId: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    ifname: env.CNI_IFNAME ?? '',
    args: parseCniArgs(env.CNI_ARGS),
    path: (env.CNI_PATH ?? '').split(':').filter(Boolean),
    stdin,
    config,
    cniVersion: config.cniVersion,
    env,
  };
  if (verb === 'ADD' || verb === 'DEL' || verb === 'CHECK') {
    validateContainerId(cmd.containerId);
    validateInterfaceName(cmd.ifname);
    checkNetns(verb, cmd.netns, env);
  }
  if (config.prevResult !== undefined) cmd.prevResult = readPrevResult(verb, config.prevResult);
  if (verb === 'GC') cmd.validAttachments = readValidAttachments(raw);
  return cmd;
}

/** DEL must not refuse what ADD refused: fields of the wrong shape are dropped, not fatal. */
function lenientConfig(raw: Record<string, unknown>): NetConf {
  const { config, dropped } = lenientNetConf(raw, 'network config');
  if (dropped.length) log.warn('DEL: ignoring config fields of the wrong shape', { fields: dropped });
  return config;
}

/** prevResult in any spec version; a DEL goes on without one it cannot decode. */
function readPrevResult(verb: Verb, value: unknown): Result | undefined {
  try {
    return resultFromAnyVersion(parseWith(Result, value, 'prevResult', ErrorCode.DecodingFailure, 'prevResult'));
  } catch (err) {
    if (verb !== 'DEL' || !(err instanceof CniError)) throw err;
    log.warn('DEL: ignoring a prevResult that cannot be decoded', { error: err.message });
    return undefined;
  }
}

/**
 * DEL must not refuse a config its ADD was refused for: a top-level field nested too deeply is
 * dropped (and logged) instead, so the DEL finds its state by the fields that are left.
 */
function dropOverDeepFields(parsed: unknown): void {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
  const config = parsed as Record<string, unknown>;
  const dropped = Object.keys(config).filter((key) => measureNesting(config[key], MAX_NESTING_DEPTH - 1).depth > MAX_NESTING_DEPTH - 1);
  for (const key of dropped) delete config[key];
  if (dropped.length) log.warn('DEL: ignoring config fields nested too deeply', { fields: dropped, limit: MAX_NESTING_DEPTH });
}

function readConfig(io: PluginIO, verb: Verb): { raw: Record<string, unknown>; stdin: Buffer } {
  let stdin: Buffer;
  try {
    stdin = io.readStdin();
  } catch (err) {
    throw new CniError(ErrorCode.IOFailure, `cannot read the network config from stdin: ${(err as Error).message}`);
  }
  if (stdin.length > MAX_STDIN_BYTES) {
    throw new CniError(ErrorCode.DecodingFailure, `network config on stdin is ${stdin.length} bytes; the limit is ${MAX_STDIN_BYTES}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdin.toString('utf8'));
  } catch (err) {
    const why = err instanceof RangeError ? 'nested too deeply' : (err as Error).message;
    throw new CniError(ErrorCode.DecodingFailure, `cannot decode the network config on stdin as JSON: ${why}`);
  }
  if (verb === 'DEL') dropOverDeepFields(parsed);
  const nesting = measureNesting(parsed, MAX_NESTING_DEPTH);
  if (nesting.depth > MAX_NESTING_DEPTH) {
    throw new CniError(
      ErrorCode.DecodingFailure,
      `the network config on stdin nests arrays and objects ${nesting.depth} levels deep (at ${JSON.stringify(nesting.path)}); the limit is ${MAX_NESTING_DEPTH}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CniError(ErrorCode.DecodingFailure, 'the network config on stdin must be a JSON object');
  }
  return { raw: parsed as Record<string, unknown>, stdin };
}

interface Level {
  value: object;
  depth: number;
  key?: string | number;
  parent?: Level;
}

/**
 * How deep `root` nests arrays and objects (the top-level one is level 1), walked with an explicit
 * stack so any depth JSON.parse accepted can be measured; `path` leads to the first value deeper
 * than `limit` (shortened after a few steps). Levels past the limit keep no parent, so a
 * two-million-deep array costs a stack of one.
 */
function measureNesting(root: unknown, limit: number): { depth: number; path?: string } {
  if (typeof root !== 'object' || root === null) return { depth: 0 };
  let depth = 0;
  let beyond: Level | undefined;
  const stack: Level[] = [{ value: root, depth: 1 }];
  for (let level = stack.pop(); level; level = stack.pop()) {
    depth = Math.max(depth, level.depth);
    if (level.depth > limit) beyond ??= level;
    const children = Array.isArray(level.value) ? level.value.entries() : Object.entries(level.value);
    for (const [key, value] of children) {
      if (typeof value !== 'object' || value === null) continue;
      stack.push(level.depth <= limit ? { value, depth: level.depth + 1, key, parent: level } : { value, depth: level.depth + 1 });
    }
  }
  return { depth, path: beyond && formatPath(beyond) };
}

function formatPath(level: Level): string {
  const steps: string[] = [];
  for (let l: Level | undefined = level; l?.key !== undefined; l = l.parent) {
    steps.unshift(typeof l.key === 'number' ? `[${l.key}]` : /^[A-Za-z_$][\w$-]*$/.test(l.key) ? `.${l.key}` : `[${JSON.stringify(l.key)}]`);
  }
  const shown = steps.slice(0, 8).join('').replace(/^\./, '');
  return steps.length > 8 ? `${shown}…` : shown;
}

function checkVersion(verb: Verb, version: string): void {
  if (!isSupportedVersion(version)) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `incompatible CNI versions; config is ${JSON.stringify(version)}, plugin supports [${SUPPORTED_VERSIONS.map((v) => JSON.stringify(v)).join(' ')}]`,
    );
  }
  const minimum = MINIMUM_VERSION[verb];
  if (minimum && !versionAtLeast(version, minimum)) {
    throw new CniError(ErrorCode.IncompatibleVersion, `config version ${JSON.stringify(version)} does not allow ${verb} (needs ${minimum} or later)`);
  }
}

function checkNetns(verb: Verb, netns: string, env: PluginIO['env']): void {
  // DEL must succeed when the namespace is already gone; the plugin decides what that means.
  if (verb === 'DEL' && !netnsExists(netns)) return;
  assertNetns(netns);
  const override = (env.CNI_NETNS_OVERRIDE ?? '').toLowerCase();
  if (override !== '1' && override !== 'true' && isCurrentNetns(netns)) {
    throw new CniError(ErrorCode.InvalidNetns, `CNI_NETNS ${JSON.stringify(netns)} is the plugin's own network namespace, not a container's`);
  }
}

function readValidAttachments(raw: Record<string, unknown>) {
  const list = goField(raw, 'cni.dev/valid-attachments') ?? goField(raw, 'cni.dev/attachments');
  if (list === undefined) return undefined;
  return parseWith(ValidAttachments, list, 'GC request', ErrorCode.InvalidNetworkConfig, 'cni.dev/valid-attachments');
}
