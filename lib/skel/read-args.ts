import { CniError, ErrorCode } from '../errors';
import { assertNetns, isCurrentNetns } from '../netns';
import { NetConf, Result, SUPPORTED_VERSIONS, ValidAttachments, goField, isSupportedVersion, parseWith, resultFromAnyVersion, versionAtLeast } from '../types';
import { parseCniArgs } from './cni-args';
import { type CallArgs, type CmdArgs, type DelArgs, MINIMUM_VERSION, REQUIRED_ENV, type Verb } from './cmd-args';
import { dropOverDeepFields, lenientConfig, lenientPrevResult, netnsGone } from './del-args';
import type { PluginIO } from './io';
import { readConfig } from './stdin-config';
import { validateContainerId, validateInterfaceName, validateNetworkName } from './validate';

/**
 * The verb's input from the environment and stdin, checked as the Go skel checks it; DEL's as
 * lib/skel/del-args.ts allows. `noteVersion` learns the config's cniVersion as soon as it is read,
 * so an error about the rest is printed in that version.
 */
export function readCmdArgs(verb: Verb, io: PluginIO, noteVersion: (v: string) => void): CmdArgs | DelArgs {
  const env = io.env;
  const missing = REQUIRED_ENV[verb].filter((name) => !env[name]);
  if (missing.length) {
    throw new CniError(ErrorCode.InvalidEnvironment, `required environment variables missing: ${missing.join(', ')}`);
  }
  const isDel = verb === 'DEL';
  const { raw, stdin } = readConfig(io, isDel ? dropOverDeepFields : undefined);
  const version = goField(raw, 'cniVersion');
  if (typeof version === 'string') noteVersion(version);
  const config = isDel ? lenientConfig(raw) : parseWith(NetConf, raw, 'network config');
  checkVersion(verb, config.cniVersion);
  validateNetworkName(config.name);

  const common: CallArgs = {
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
    validateContainerId(common.containerId);
    validateInterfaceName(common.ifname);
    if (!(isDel && netnsGone(common.netns))) checkNetns(common.netns, env);
  }
  const prevResult = config.prevResult;
  if (isDel) {
    const cmd: DelArgs = { ...common, command: 'DEL' };
    if (prevResult !== undefined) cmd.prevResult = lenientPrevResult(() => readPrevResult(prevResult));
    return cmd;
  }
  const cmd: CmdArgs = { ...common, command: verb };
  if (prevResult !== undefined) cmd.prevResult = readPrevResult(prevResult);
  if (verb === 'GC') cmd.validAttachments = readValidAttachments(raw);
  return cmd;
}

/** prevResult in any spec version. */
const readPrevResult = (value: unknown): Result => resultFromAnyVersion(parseWith(Result, value, 'prevResult', ErrorCode.DecodingFailure, 'prevResult'));

function checkVersion(verb: Verb, version: string): void {
  if (version === '0.1.0' || version === '0.2.0') {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `incompatible CNI versions; config is ${JSON.stringify(version)}, whose results (ip4/ip6) this suite does not write: set "cniVersion" to "0.3.1" or later (no other field changes; a runtime that reads only ${version} results needs the reference plugins)`,
    );
  }
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

function checkNetns(netns: string, env: PluginIO['env']): void {
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
