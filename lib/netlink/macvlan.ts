import type { RtNetlinkSocket } from 'netlink/dist/rt/rt';
import { FlagsNew } from 'netlink/dist/constants';
import * as ifla from 'netlink/dist/rt/ifla';
import { linkInfo, macToBytes, toBuffer } from './encode';
import { call } from './socket';

/** The macvlan modes a CNI config can ask for, with their MACVLAN_MODE_* values. */
export const MACVLAN_MODES = { private: 1, vepa: 2, bridge: 4, passthru: 8 } as const;
export type MacvlanMode = keyof typeof MACVLAN_MODES;

const IFLA_MACVLAN_BC_QUEUE_LEN = 7;

export interface MacvlanSpec {
  name: string;
  /** ifindex of the master, in the namespace of the socket that creates the macvlan. */
  parentIndex: number;
  mode: MacvlanMode;
  mtu?: number;
  mac?: string;
  /** fd of the namespace the macvlan is born in (the container's); absent: the socket's own. */
  netnsFd?: number;
  /** IFLA_MACVLAN_BC_QUEUE_LEN, sent only when set (as vishvananda/netlink does). */
  bcQueueLen?: number;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
}

/** IFLA_INFO_DATA of a macvlan: its mode and, when given, the broadcast queue length. */
export function macvlanInfoData(mode: MacvlanMode, bcQueueLen?: number): Buffer {
  const data = toBuffer(ifla.formatMacvlan({ mode: MACVLAN_MODES[mode] }));
  if (!bcQueueLen) return data;
  const attr = Buffer.alloc(8);
  attr.writeUInt16LE(8, 0);
  attr.writeUInt16LE(IFLA_MACVLAN_BC_QUEUE_LEN, 2);
  attr.writeUInt32LE(bcQueueLen, 4);
  return Buffer.concat([data, attr]);
}

/**
 * Creates a macvlan on the master `parentIndex` in one message, born in the namespace `netnsFd`
 * under its final name (the kernel checks the name there, not beside the master). EEXIST when
 * that name is taken in the target.
 */
export async function createMacvlan(sock: RtNetlinkSocket, spec: MacvlanSpec): Promise<void> {
  await call(`create macvlan ${JSON.stringify(spec.name)} on #${spec.parentIndex}`, () =>
    sock.newLink(
      {},
      {
        ifname: spec.name,
        link: u32(spec.parentIndex),
        mtu: spec.mtu,
        address: spec.mac ? macToBytes(spec.mac) : undefined,
        netNsFd: spec.netnsFd,
        linkinfo: linkInfo('macvlan', macvlanInfoData(spec.mode, spec.bcQueueLen)),
      },
      { flags: FlagsNew.CREATE | FlagsNew.EXCL },
    ),
  );
}

/** The mode of a macvlan from its IFLA_INFO_DATA, or undefined when it names none of the four. */
export function macvlanModeOf(infoData: Buffer | undefined): MacvlanMode | undefined {
  const mode = infoData ? ifla.parseMacvlan(infoData).mode : undefined;
  return (Object.keys(MACVLAN_MODES) as MacvlanMode[]).find((m) => MACVLAN_MODES[m] === mode);
}
