import * as z from 'zod/mini';

const boolish = z.optional(z.union([z.boolean(), z.enum(['true', 'false'])]));

/** A network configuration list file (SPEC §1), as runtimes read from /etc/cni/net.d. */
export const NetConfList = z.looseObject({
  cniVersion: z.string(),
  cniVersions: z.optional(z.array(z.string())),
  name: z.string(),
  disableCheck: boolish,
  disableGC: boolish,
  loadOnlyInlinedPlugins: z.optional(z.boolean()),
  plugins: z.array(z.looseObject({ type: z.string().check(z.minLength(1)) })).check(z.minLength(1)),
});
export type NetConfList = z.infer<typeof NetConfList>;
