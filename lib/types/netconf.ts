import * as z from 'zod/mini';
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

export const Attachment = z.looseObject({ containerID: z.string(), ifname: z.string() });
export type Attachment = z.infer<typeof Attachment>;

export const ValidAttachments = z.array(Attachment);
