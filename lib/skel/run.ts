import { CniError, ErrorCode } from '../errors';
import { Logger, setLogger, type LogLevel } from '../log';
import { CURRENT_VERSION, SUPPORTED_VERSIONS, goField, isSupportedVersion, resultToVersion } from '../types';
import { type About, type PluginVerbs, type Verb, VERBS } from './cmd-args';
import { processIO, type PluginIO } from './io';
import { readCmdArgs } from './read-args';
import { startTiming } from './timing';
import { toCniError } from './translate';

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
    if (cmd.command === 'DEL') await verbs.del(cmd);
    else if (cmd.command === 'ADD') {
      const result = await verbs.add(cmd);
      io.writeStdout(JSON.stringify(resultToVersion(result, cmd.cniVersion)) + '\n');
    } else if (cmd.command === 'CHECK') await verbs.check(cmd);
    else if (cmd.command === 'STATUS') await verbs.status?.(cmd);
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
