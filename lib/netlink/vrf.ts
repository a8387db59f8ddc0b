import { attr, attributeMap, readU32, u32 } from './attributes';

const IFLA_VRF_TABLE = 1;

/** IFLA_INFO_DATA of a VRF (created by createLink): its routing table. */
export const vrfInfoData = (table: number): Buffer => attr(IFLA_VRF_TABLE, u32(table));

/** The routing table of a VRF from its IFLA_INFO_DATA. */
export const vrfTableOf = (infoData: Buffer | undefined): number | undefined => readU32(attributeMap(infoData).get(IFLA_VRF_TABLE));
