import * as z from 'zod/mini';
import { CniError, ErrorCode, invalidField as invalid } from '../../lib/errors';
import { parseNonMasqueradeCIDRs } from '../../lib/iface/masquerade-config';
import type { Prefix } from '../../lib/ip';
import { checkKnownArgs, type CmdArgs } from '../../lib/skel';
import { requestedMac } from '../../lib/skel/mac';
import { validateInterfaceName } from '../../lib/skel/validate';
import { NetConf, parseWith, type DNS } from '../../lib/types';

const opt = z.optional;
const flag = opt(z.boolean());

const BridgeConf = z.extend(NetConf, {
  bridge: opt(z.string()),
  isGateway: flag,
  isDefaultGateway: flag,
  forceAddress: flag,
  ipMasq: flag,
  ipMasqBackend: opt(z.string()),
  nonMasqueradeCIDRs: opt(z.array(z.string())),
  mtu: opt(z.int().check(z.minimum(68), z.maximum(65535))),
  hairpinMode: flag,
  promiscMode: flag,
  vlan: opt(z.int().check(z.minimum(0), z.maximum(4094))),
  vlanTrunk: opt(z.array(z.looseObject({}))),
  preserveDefaultVlan: flag,
  enabledad: flag,
  macspoofchk: flag,
  disableContainerInterface: flag,
  portIsolation: flag,
  runtimeConfig: opt(z.looseObject({ mac: opt(z.string()) })),
  args: opt(z.looseObject({ cni: opt(z.looseObject({ mac: opt(z.string()) })) })),
});

/** bridge's config with defaults filled and cross-field rules checked. */
export interface BridgeConfig {
  cniVersion: string;
  networkName: string;
  bridge: string;
  isGateway: boolean;
  isDefaultGateway: boolean;
  forceAddress: boolean;
  ipMasq: boolean;
  /** Destinations never masqueraded (our extension; see docs/bridge.md). */
  nonMasqueradeCIDRs: Prefix[];
  mtu?: number;
  hairpinMode: boolean;
  promiscMode: boolean;
  enableDad: boolean;
  macSpoofCheck: boolean;
  disableContainerInterface: boolean;
  /** The IPAM plugin type; undefined for an L2-only network. */
  ipamType?: string;
  /** The MAC for the container interface, from the mac capability, args.cni.mac or CNI_ARGS MAC. */
  mac?: string;
  dns?: DNS;
}

export function parseConfig(cmd: CmdArgs): BridgeConfig {
  const conf = parseWith(BridgeConf, cmd.config, 'bridge config');
  const bridge = conf.bridge || 'cni0';
  try {
    validateInterfaceName(bridge);
  } catch {
    throw invalid('bridge', `${JSON.stringify(bridge)} is not a valid interface name (1-15 characters, no "/", ":" or white space)`);
  }
  if (conf.hairpinMode && conf.promiscMode) throw invalid('hairpinMode', 'cannot be used together with promiscMode');
  const ipamType = conf.ipam?.type || undefined;
  if (conf.disableContainerInterface && ipamType) throw invalid('disableContainerInterface', 'cannot be used with IPAM: an interface that stays down cannot be addressed');
  if (conf.ipMasqBackend !== undefined && conf.ipMasqBackend !== 'nftables') {
    throw invalid('ipMasqBackend', `${JSON.stringify(conf.ipMasqBackend)} is not supported: this suite masquerades with nftables only`);
  }
  rejectUnimplemented(conf);
  return {
    cniVersion: conf.cniVersion,
    networkName: conf.name,
    bridge,
    isGateway: Boolean(conf.isGateway || conf.isDefaultGateway),
    isDefaultGateway: Boolean(conf.isDefaultGateway),
    forceAddress: Boolean(conf.forceAddress),
    ipMasq: Boolean(conf.ipMasq),
    nonMasqueradeCIDRs: parseNonMasqueradeCIDRs(conf.nonMasqueradeCIDRs),
    mtu: conf.mtu,
    hairpinMode: Boolean(conf.hairpinMode),
    promiscMode: Boolean(conf.promiscMode),
    enableDad: Boolean(conf.enabledad),
    macSpoofCheck: Boolean(conf.macspoofchk),
    disableContainerInterface: Boolean(conf.disableContainerInterface),
    ipamType,
    mac: containerMac(cmd, conf),
    dns: conf.dns && Object.keys(conf.dns).length ? conf.dns : undefined,
  };
}

/** VLANs and port isolation are not built yet: refuse them rather than silently ignore them. */
function rejectUnimplemented(conf: z.infer<typeof BridgeConf>): void {
  const unsupported = (field: string) => new CniError(ErrorCode.UnsupportedField, `unsupported field "${field}": not implemented by this bridge plugin yet`);
  if (conf.vlan) throw unsupported('vlan');
  if (conf.vlanTrunk?.length) throw unsupported('vlanTrunk');
  if (conf.portIsolation) throw unsupported('portIsolation');
}

/** Later sources win, as in the reference: CNI_ARGS MAC, then args.cni.mac, then runtimeConfig.mac. */
function containerMac(cmd: CmdArgs, conf: z.infer<typeof BridgeConf>): string | undefined {
  checkKnownArgs(cmd.args, ['MAC', 'IP']);
  return requestedMac([
    [cmd.args.get('MAC'), 'CNI_ARGS MAC'],
    [conf.args?.cni?.mac, 'args.cni.mac'],
    [conf.runtimeConfig?.mac, 'runtimeConfig.mac'],
  ]);
}
