import { readU32, readU8 } from './attributes';
import { ifla } from './package';

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

export function tunInfoOf(infoData: Buffer | undefined): TunInfo {
  const t = infoData ? ifla.parseTun(infoData) : {};
  const type = readU8(t.type);
  return {
    type: type === IFF_TAP ? 'tap' : type === IFF_TUN ? 'tun' : undefined,
    owner: readU32(t.owner),
    group: readU32(t.group),
    pi: readU8(t.pi) === 1,
    vnetHdr: readU8(t.vnetHdr) === 1,
    persist: readU8(t.persist) === 1,
    multiQueue: readU8(t.multiQueue) === 1,
  };
}
