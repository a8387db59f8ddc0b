import { VERSION } from '../about';
import { type InProcessDelegates, registerInProcessDelegates } from '../invoke/in-process';
import { lazyVerbs, type VerbModule } from './lazy';
import { runPlugin } from './run';

export interface PluginDefinition {
  /** The plugin type: the executable's name in bin/ and in scripts/plugins.mjs. */
  name: string;
  /** Its verbs' module, loaded on first use. */
  verbs: () => Promise<VerbModule>;
  /** The delegates (IPAM plugins) this plugin may run in its own process; see registerInProcessDelegates. */
  inProcessDelegates?: InProcessDelegates;
}

/** A plugin's entry: what bin/<name>'s bundle and the warm workers run for one call. */
export type PluginMain = () => Promise<number>;

/** Declares one plugin of the suite; its folder's main.ts exports the result as `main`. */
export function definePlugin({ name, verbs, inProcessDelegates }: PluginDefinition): PluginMain {
  if (inProcessDelegates) registerInProcessDelegates(inProcessDelegates);
  const lazy = lazyVerbs(verbs);
  return () => runPlugin(lazy, { name, version: VERSION });
}
