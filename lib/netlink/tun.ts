import * as ifla from 'netlink/dist/rt/ifla';

/** What the kernel reports of a tun/tap device (IFLA_INFO_DATA of kind "tun"). */
export interface TunInfo {
  type: 'tun' | 'tap' | undefined;
  owner?: number;
  group?: number;
  pi: boolean;
  vnetHdr: boolean;
  persist: boolean;
  multiQueue: boolean;
}

const IFF_TUN = 1;
const IFF_TAP = 2;

const u8 = (b: Buffer | undefined) => (b?.length ? b.readUInt8(0) : 0);
const u32 = (b: Buffer | undefined) => (b && b.length >= 4 ? b.readUInt32LE(0) : undefined);

export function tunInfoOf(infoData: Buffer | undefined): TunInfo {
  const t = infoData ? ifla.parseTun(infoData) : {};
  const type = u8(t.type);
  return {
    type: type === IFF_TAP ? 'tap' : type === IFF_TUN ? 'tun' : undefined,
    owner: u32(t.owner),
    group: u32(t.group),
    pi: u8(t.pi) === 1,
    vnetHdr: u8(t.vnetHdr) === 1,
    persist: u8(t.persist) === 1,
    multiQueue: u8(t.multiQueue) === 1,
  };
}
