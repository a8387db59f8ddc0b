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
  /** `<name> <subcommand> [args]` runs the subcommand instead of the CNI protocol (dhcp's `daemon`). */
  subcommands?: Record<string, (args: string[]) => Promise<number>>;
}

/** A plugin's entry: what bin/<name>'s bundle and the warm workers run for one call; it knows its name. */
export type PluginMain = (() => Promise<number>) & { readonly pluginName: string };

/** Declares one plugin of the suite; its folder's main.ts exports the result as `main`. */
export function definePlugin({ name, verbs, inProcessDelegates, subcommands = {} }: PluginDefinition): PluginMain {
  if (inProcessDelegates) registerInProcessDelegates(inProcessDelegates);
  const lazy = lazyVerbs(verbs);
  const main = () => {
    const subcommand = process.argv[2];
    if (subcommand !== undefined && Object.hasOwn(subcommands, subcommand)) return subcommands[subcommand](process.argv.slice(3));
    return runPlugin(lazy, { name, version: VERSION });
  };
  return Object.assign(main, { pluginName: name });
}
