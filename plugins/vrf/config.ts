import * as z from 'zod/mini';
import { invalidField } from '../../lib/errors';
import type { CmdArgs } from '../../lib/skel';
import { NetConf, parseWith } from '../../lib/types';

const VrfConf = z.extend(NetConf, {
  vrfname: z.optional(z.string()),
  table: z.optional(z.int().check(z.minimum(0), z.maximum(0xfffffffe))),
});

export interface VrfConfig {
  cniVersion: string;
  /** The VRF device in the container that the interface is enslaved to, made when missing. */
  vrfname: string;
  /** Its routing table; none (or 0): an existing VRF's, or the first no other VRF of the container uses, from 1. */
  table?: number;
}

export function parseConfig(cmd: CmdArgs): VrfConfig {
  const conf = parseWith(VrfConf, cmd.config, 'vrf config');
  if (!conf.vrfname) throw invalidField('vrfname', 'is required: the name of the VRF device the interface joins');
  if (conf.vrfname.length > 15 || conf.vrfname.includes('/') || /\s/.test(conf.vrfname)) throw invalidField('vrfname', `${JSON.stringify(conf.vrfname)} is not an interface name`);
  return { cniVersion: conf.cniVersion, vrfname: conf.vrfname, table: conf.table || undefined };
}
