import { z } from 'zod';
import { DNS } from './result';

/** The keys every plugin understands; plugin schemas extend it. Unknown keys pass through, as the spec asks. */
export const NetConf = z.looseObject({
  cniVersion: z.string(),
  name: z.string(),
  type: z.string().optional(),
  capabilities: z.record(z.string(), z.boolean()).optional(),
  ipam: z.looseObject({ type: z.string().optional() }).optional(),
  dns: DNS.optional(),
  runtimeConfig: z.looseObject({}).optional(),
  args: z.looseObject({}).optional(),
  prevResult: z.unknown().optional(),
});
export type NetConf = z.infer<typeof NetConf>;

export const Attachment = z.looseObject({ containerID: z.string(), ifname: z.string() });
export type Attachment = z.infer<typeof Attachment>;

export const ValidAttachments = z.array(Attachment);
