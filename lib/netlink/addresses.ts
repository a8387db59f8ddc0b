import type { RtNetlinkSocket } from 'netlink/dist/rt/rt';
import { formatIP, type IP } from '../ip';
import { call } from './socket';

const AF_INET = 2;
const AF_INET6 = 10;

export interface AddressInfo {
  ip: IP;
  prefixLength: number;
  linkIndex: number;
}

function bytesToIP(bytes: Buffer): IP {
  const family = bytes.length === 4 ? 4 : 6;
  return { family, value: BigInt('0x' + (bytes.toString('hex') || '0')) };
}

export function ipToBytes(ip: IP): Buffer {
  return Buffer.from(ip.value.toString(16).padStart(ip.family === 4 ? 8 : 32, '0'), 'hex');
}

/** Addresses on the link with index `linkIndex` (all links when omitted). */
export async function listAddresses(sock: RtNetlinkSocket, linkIndex?: number): Promise<AddressInfo[]> {
  const messages = await call('list addresses', () => sock.getAddresses());
  return messages
    .filter((m) => linkIndex === undefined || m.data.index === linkIndex)
    .map((m) => {
      const bytes = m.attrs.address ?? m.attrs.local;
      return bytes ? { ip: bytesToIP(bytes), prefixLength: m.data.prefixlen ?? 0, linkIndex: m.data.index ?? 0 } : undefined;
    })
    .filter((a): a is AddressInfo => a !== undefined);
}

export function familyConstant(ip: IP): number {
  return ip.family === 4 ? AF_INET : AF_INET6;
}

export const formatAddress = (a: AddressInfo): string => `${formatIP(a.ip)}/${a.prefixLength}`;
