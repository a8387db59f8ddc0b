import { attr, u16 } from './attributes';
import { ifla } from './package';

/** The ipvlan modes a CNI config can ask for, with their IPVLAN_MODE_* values. */
export const IPVLAN_MODES = { l2: 0, l3: 1, l3s: 2 } as const;
export type IpvlanMode = keyof typeof IPVLAN_MODES;

const IFLA_IPVLAN_MODE = 1;
const IFLA_IPVLAN_FLAGS = 2;

/**
 * IFLA_INFO_DATA of an ipvlan: IFLA_IPVLAN_MODE and IFLA_IPVLAN_FLAGS 0 (bridge: neither private
 * nor vepa), both u16, as the reference (vishvananda/netlink) and iproute2 send them.
 */
export function ipvlanInfoData(mode: IpvlanMode): Buffer {
  return Buffer.concat([attr(IFLA_IPVLAN_MODE, u16(IPVLAN_MODES[mode])), attr(IFLA_IPVLAN_FLAGS, u16(0))]);
}

/** The mode of an ipvlan from its IFLA_INFO_DATA, or undefined when it names none of the three. */
export function ipvlanModeOf(infoData: Buffer | undefined): IpvlanMode | undefined {
  const mode = infoData ? ifla.parseIpvlan(infoData).mode : undefined;
  return (Object.keys(IPVLAN_MODES) as IpvlanMode[]).find((m) => IPVLAN_MODES[m] === mode);
}
