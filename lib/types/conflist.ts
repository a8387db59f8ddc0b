import * as z from 'zod/mini';

/** libcni's readBool: a boolean, or "true"/"false" in any case. */
const boolish = z.optional(z.union([z.boolean(), z.string().check(z.regex(/^(true|false)$/i))]));
export const isTrue = (value: boolean | string | undefined): boolean => value === true || (typeof value === 'string' && value.toLowerCase() === 'true');

/** One plugin's object in a list (or a plugin file of its own). */
export const PluginConf = z.looseObject({ type: z.string().check(z.minLength(1)) });

/**
 * A network configuration list file (SPEC §1) as written in /etc/cni/net.d: `cniVersion` may be
 * left out for `cniVersions`, and `plugins` for plugin files in `<dir>/<name>/` (lib/libcni/conf-files.ts).
 */
export const NetConfListFile = z.looseObject({
  cniVersion: z.optional(z.string()),
  cniVersions: z.optional(z.array(z.string())),
  name: z.string(),
  disableCheck: boolish,
  disableGC: boolish,
  loadOnlyInlinedPlugins: boolish,
  plugins: z.optional(z.array(PluginConf).check(z.minLength(1))),
});
export type NetConfListFile = z.infer<typeof NetConfListFile>;

/** A network configuration list as a runtime runs it: its version chosen, its plugins gathered. */
export const NetConfList = z.looseObject({
  ...NetConfListFile.def.shape,
  cniVersion: z.string(),
  plugins: z.array(PluginConf).check(z.minLength(1)),
});
export type NetConfList = z.infer<typeof NetConfList>;
