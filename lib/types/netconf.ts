import * as z from 'zod/mini';
import { safeParse } from 'zod/v4/core';
import { goField, matchGoKeys } from './go-keys';
import { parseWith } from './parse';
import { DNS } from './result';

/** The keys every plugin understands; plugin schemas extend it. Unknown keys pass through, as the spec asks. */
export const NetConf = z.looseObject({
  cniVersion: z.string(),
  name: z.string(),
  type: z.optional(z.string()),
  capabilities: z.optional(z.record(z.string(), z.boolean())),
  ipam: z.optional(z.looseObject({ type: z.optional(z.string()) })),
  dns: z.optional(DNS),
  runtimeConfig: z.optional(z.looseObject({})),
  args: z.optional(z.looseObject({})),
  prevResult: z.optional(z.unknown()),
});
export type NetConf = z.infer<typeof NetConf>;

export const ValidAttachment = z.looseObject({ containerID: z.string(), ifname: z.string() });
export type ValidAttachment = z.infer<typeof ValidAttachment>;

export const ValidAttachments = z.array(ValidAttachment);

/**
 * For DEL, which must not refuse what ADD refused: the config with only `cniVersion` and `name`
 * required; every other well-known key whose value has the wrong shape is dropped (and logged by
 * the caller) instead of failing. Plugins read what they need with `lenientString`.
 */
export function lenientNetConf(raw: Record<string, unknown>, what: string): { config: NetConf; dropped: string[] } {
  const required = z.looseObject({ cniVersion: z.string(), name: z.string() });
  const config = { ...(matchGoKeys(NetConf, raw) as Record<string, unknown>) };
  parseWith(required, config, what);
  const dropped: string[] = [];
  for (const [field, schema] of Object.entries(NetConf.def.shape)) {
    if (field === 'cniVersion' || field === 'name' || !(field in config)) continue;
    if (!safeParse(schema, config[field]).success) {
      delete config[field];
      dropped.push(field);
    }
  }
  return { config: config as NetConf, dropped };
}

/** A string at `path` inside a config (keys found as Go finds them), or undefined when it is absent or not a string (DEL's lenient reading). */
export function lenientString(config: unknown, ...path: string[]): string | undefined {
  const value = path.reduce<unknown>((at, key) => goField(at, key), config);
  return typeof value === 'string' ? value : undefined;
}
