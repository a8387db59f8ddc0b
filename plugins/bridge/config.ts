import * as z from 'zod/mini';
import { invalidField as invalid } from '../../lib/errors';
import { parseNonMasqueradeCIDRs } from '../../lib/iface/masquerade-config';
import type { Prefix } from '../../lib/ip';
import { checkKnownArgs, type CmdArgs } from '../../lib/skel';
import { requestedMac } from '../../lib/skel/mac';
import { validateInterfaceName } from '../../lib/skel/validate';
import { acceptBackendField } from '../../lib/nft/backend-field';
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
  vlanTrunk: opt(z.array(z.looseObject({ id: opt(z.int()), minID: opt(z.int()), maxID: opt(z.int()) }))),
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
  /** The VLAN of the host veth's port, PVID and untagged; 0: none (`vlan`). */
  vlan: number;
  /** The tagged VLANs of the host veth's port (`vlanTrunk`), sorted, each once. */
  vlanTrunk: number[];
  /** A bridge this ADD creates gets VLAN filtering: `vlan` is not 0 or `vlanTrunk` is present (even empty), as in the reference. */
  vlanFiltering: boolean;
  /** Keep the bridge's default VLAN (normally 1) on the port when `vlan` or `vlanTrunk` set VLANs; default false as in the reference since v1.8.0. */
  preserveDefaultVlan: boolean;
  /** The host veth's port is isolated: no frames to or from other isolated ports. */
  portIsolation: boolean;
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
  acceptBackendField('ipMasqBackend', conf.ipMasqBackend, 'masquerading');
  const isGateway = Boolean(conf.isGateway || conf.isDefaultGateway);
  const vlan = conf.vlan ?? 0;
  if (isGateway && vlan && `${bridge}.${vlan}`.length > 15) {
    throw invalid('vlan', `with isGateway the gateway goes on an interface named ${JSON.stringify(`${bridge}.${vlan}`)}, longer than 15 characters: choose a shorter "bridge"`);
  }
  return {
    cniVersion: conf.cniVersion,
    networkName: conf.name,
    bridge,
    isGateway,
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
    vlan,
    vlanTrunk: collectVlanTrunk(conf.vlanTrunk),
    vlanFiltering: vlan !== 0 || conf.vlanTrunk !== undefined,
    preserveDefaultVlan: Boolean(conf.preserveDefaultVlan),
    portIsolation: Boolean(conf.portIsolation),
    ipamType,
    mac: containerMac(cmd, conf),
    dns: conf.dns && Object.keys(conf.dns).length ? conf.dns : undefined,
  };
}

type VlanTrunkEntry = NonNullable<z.infer<typeof BridgeConf>['vlanTrunk']>[number];

/**
 * The reference's collectVlanTrunk: each entry is a single `id`, a `minID`..`maxID` range (both
 * needed), or both; every VLAN 1-4094. The union, sorted. Errors name the entry's field.
 */
export function collectVlanTrunk(trunk: VlanTrunkEntry[] | undefined): number[] {
  const vlans = new Set<number>();
  const check = (i: number, field: string, value: number) => {
    if (value < 1 || value > 4094) throw invalid(`vlanTrunk[${i}].${field}`, `${value} is not a VLAN ID (1-4094)`);
  };
  (trunk ?? []).forEach((entry, i) => {
    const { minID, maxID, id } = entry;
    if (minID !== undefined && maxID !== undefined) {
      check(i, 'minID', minID);
      check(i, 'maxID', maxID);
      if (maxID < minID) throw invalid(`vlanTrunk[${i}].minID`, `${minID} is greater than maxID ${maxID}`);
      for (let v = minID; v <= maxID; v++) vlans.add(v);
    } else if (maxID !== undefined) {
      throw invalid(`vlanTrunk[${i}].minID`, 'is missing: minID and maxID go together');
    } else if (minID !== undefined) {
      throw invalid(`vlanTrunk[${i}].maxID`, 'is missing: minID and maxID go together');
    }
    if (id !== undefined) {
      check(i, 'id', id);
      vlans.add(id);
    }
  });
  return [...vlans].sort((a, b) => a - b);
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
