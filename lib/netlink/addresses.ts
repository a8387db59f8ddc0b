import { formatIP, lastAddress, type IP } from '../ip';
import { FlagsNew, type RtNetlinkSocket } from './package';
import { call } from './socket';

const AF_INET = 2;
const AF_INET6 = 10;

export interface AddressInfo {
  ip: IP;
  prefixLength: number;
  linkIndex: number;
  /** IPv6 duplicate address detection still running */
  tentative: boolean;
}

/** A kernel address attribute (4 or 16 bytes, network order) as an IP. */
export function bytesToIP(bytes: Buffer): IP {
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
      return bytes
        ? { ip: bytesToIP(bytes), prefixLength: m.data.prefixlen ?? 0, linkIndex: m.data.index ?? 0, tentative: Boolean(m.data.flags?.tentative || m.attrs.flags?.tentative) }
        : undefined;
    })
    .filter((a): a is AddressInfo => a !== undefined);
}

export function familyConstant(ip: IP): number {
  return ip.family === 4 ? AF_INET : AF_INET6;
}

export const formatAddress = (a: AddressInfo): string => `${formatIP(a.ip)}/${a.prefixLength}`;

/**
 * The IFA_BROADCAST an IPv4 address gets: the last address of its subnet when the prefix is shorter
 * than /31 (RFC 3021: /31 and /32 have none), as vishvananda/netlink's AddrAdd computes it for the
 * reference plugins. The kernel routes the subnet broadcast without it, but programs asking for the
 * interface's broadcast address (SIOCGIFBRDADDR, getifaddrs) would get 0.0.0.0 or nothing.
 */
export function broadcastFor(ip: IP, prefixLength: number): IP | undefined {
  return ip.family === 4 && prefixLength < 31 ? lastAddress({ ip, length: prefixLength }) : undefined;
}

/** Adds `ip/prefixLength` to a link, with its IPv4 broadcast; `noDad` skips IPv6 duplicate address detection. */
export async function addAddress(sock: RtNetlinkSocket, linkIndex: number, ip: IP, prefixLength: number, noDad = false): Promise<void> {
  const bytes = ipToBytes(ip);
  const broadcast = broadcastFor(ip, prefixLength);
  await call(`add address ${formatIP(ip)}/${prefixLength} to link #${linkIndex}`, () =>
    sock.newAddress(
      { family: familyConstant(ip), prefixlen: prefixLength, index: linkIndex, flags: noDad ? { nodad: true } : {} },
      { address: bytes, local: ip.family === 4 ? bytes : undefined, broadcast: broadcast && ipToBytes(broadcast) },
      { flags: FlagsNew.CREATE | FlagsNew.EXCL },
    ),
  );
}

export async function deleteAddress(sock: RtNetlinkSocket, a: AddressInfo): Promise<void> {
  const bytes = ipToBytes(a.ip);
  await call(`delete address ${formatAddress(a)}`, () =>
    sock.delAddress({ family: familyConstant(a.ip), prefixlen: a.prefixLength, index: a.linkIndex }, { address: bytes, local: a.ip.family === 4 ? bytes : undefined }),
  );
}
