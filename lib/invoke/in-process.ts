import type { CmdArgs, PluginVerbs } from '../skel/cmd-args';

/** A delegate's verbs, and `validate`: its ADD's config checks alone, touching nothing. */
export type DelegateVerbs = Partial<PluginVerbs> & { validate?(cmd: CmdArgs): void };
/** Delegate plugin types and how to load their verbs. */
export type InProcessDelegates = Record<string, () => Promise<DelegateVerbs>>;

const inProcess = new Map<string, () => Promise<DelegateVerbs>>();

/**
 * Lets a plugin run a delegate of this suite in its own process when CNI_PATH resolves that
 * delegate to the executable built next to the running one: the same code with the same config and
 * environment, minus a second Node.js start (about half of a bridge ADD).
 * CNI_TS_DELEGATE=exec turns it off (lib/invoke/delegate.ts decides each call).
 */
export function registerInProcessDelegates(delegates: InProcessDelegates): void {
  for (const [type, load] of Object.entries(delegates)) inProcess.set(type, load);
}

export const inProcessLoader = (type: string) => inProcess.get(type);
