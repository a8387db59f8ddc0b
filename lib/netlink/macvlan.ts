import { attr, u32 } from './attributes';
import { ifla } from './package';

/** The macvlan modes a CNI config can ask for, with their MACVLAN_MODE_* values. */
export const MACVLAN_MODES = { private: 1, vepa: 2, bridge: 4, passthru: 8 } as const;
export type MacvlanMode = keyof typeof MACVLAN_MODES;

const IFLA_MACVLAN_MODE = 1;
const IFLA_MACVLAN_BC_QUEUE_LEN = 7;

/**
 * IFLA_INFO_DATA of a macvlan (created by createLink): its mode and, when given, the broadcast
 * queue length (IFLA_MACVLAN_BC_QUEUE_LEN, sent only when set, as vishvananda/netlink does).
 */
export function macvlanInfoData(mode: MacvlanMode, bcQueueLen?: number): Buffer {
  const data = attr(IFLA_MACVLAN_MODE, u32(MACVLAN_MODES[mode]));
  return bcQueueLen ? Buffer.concat([data, attr(IFLA_MACVLAN_BC_QUEUE_LEN, u32(bcQueueLen))]) : data;
}

/** The mode of a macvlan from its IFLA_INFO_DATA, or undefined when it names none of the four. */
export function macvlanModeOf(infoData: Buffer | undefined): MacvlanMode | undefined {
  const mode = infoData ? ifla.parseMacvlan(infoData).mode : undefined;
  return (Object.keys(MACVLAN_MODES) as MacvlanMode[]).find((m) => MACVLAN_MODES[m] === mode);
}
