import type { NetConf, Result, ValidAttachment } from '../types';
import type { CniArgs } from './cni-args';

export const VERBS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC'] as const;
export type Verb = (typeof VERBS)[number];

/** What every verb receives: the validated environment and the decoded, version-checked config. */
export interface CallArgs {
  command: Verb;
  containerId: string;
  /** Empty when the runtime gave none (allowed on DEL). */
  netns: string;
  ifname: string;
  args: CniArgs;
  path: string[];
  stdin: Buffer;
  /** The whole network config, loosely validated; each plugin parses its own fields. */
  config: NetConf;
  cniVersion: string;
  prevResult?: Result;
  env: Readonly<Record<string, string | undefined>>;
}

/** ADD, CHECK, STATUS and GC: a config their plugin refuses is an error. */
export interface CmdArgs extends CallArgs {
  command: Exclude<Verb, 'DEL'>;
  /** GC only: the attachments that are still in use. */
  validAttachments?: ValidAttachment[];
}

/**
 * DEL must succeed for anything ADD may have touched, also when its config is one ADD refused:
 * its config is the lenient one (lenientNetConf: wrong-shaped well-known fields dropped), its
 * prevResult is absent when it could not be decoded, its netns may be gone. A plugin's strict
 * parseConfig takes CmdArgs, so a DEL that calls it does not type-check; DEL reads what finds
 * its state with lenientString and the records.
 */
export interface DelArgs extends CallArgs {
  command: 'DEL';
}

export interface PluginVerbs {
  add(cmd: CmdArgs): Promise<Result>;
  del(cmd: DelArgs): Promise<void>;
  check(cmd: CmdArgs): Promise<void>;
  status?(cmd: CmdArgs): Promise<void>;
  gc?(cmd: CmdArgs): Promise<void>;
}

export interface About {
  /** The plugin type, e.g. "host-local". */
  name: string;
  version: string;
}

/** Environment variables each verb requires (what the Go skel enforces). */
export const REQUIRED_ENV: Record<Verb, readonly string[]> = {
  ADD: ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  GC: ['CNI_COMMAND', 'CNI_PATH'],
  STATUS: ['CNI_COMMAND', 'CNI_PATH'],
};

/** The lowest config cniVersion that may use each verb. */
export const MINIMUM_VERSION: Partial<Record<Verb, string>> = { CHECK: '0.4.0', GC: '1.1.0', STATUS: '1.1.0' };
