import type { CmdArgs, DelArgs, PluginVerbs } from './cmd-args';

export type VerbModule = Partial<PluginVerbs> & Pick<PluginVerbs, 'add' | 'del' | 'check'>;

/**
 * Verbs whose module is loaded on first use, so VERSION and bad-input paths never pay for
 * netlink, FFI or schemas (startup time is the plugin's latency).
 */
export function lazyVerbs(load: () => Promise<VerbModule>): PluginVerbs {
  return {
    add: async (cmd: CmdArgs) => (await load()).add(cmd),
    del: async (cmd: DelArgs) => (await load()).del(cmd),
    check: async (cmd: CmdArgs) => (await load()).check(cmd),
    status: async (cmd: CmdArgs) => (await load()).status?.(cmd),
    gc: async (cmd: CmdArgs) => (await load()).gc?.(cmd),
  };
}
