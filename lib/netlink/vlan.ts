import { attr, u16 } from './attributes';
import { ifla } from './package';

/** The highest 802.1Q id a vlan link takes (4095 is reserved). */
export const VLAN_ID_MAX = 4094;

const IFLA_VLAN_ID = 1;

/**
 * IFLA_INFO_DATA of a vlan: IFLA_VLAN_ID (u16) alone, as the reference and iproute2 send it; without
 * IFLA_VLAN_PROTOCOL the kernel makes an 802.1Q link.
 */
export function vlanInfoData(id: number): Buffer {
  return attr(IFLA_VLAN_ID, u16(id));
}

/** The 802.1Q id of a vlan from its IFLA_INFO_DATA. */
export function vlanIdOf(infoData: Buffer | undefined): number | undefined {
  return infoData ? ifla.parseVlan(infoData).id : undefined;
}
