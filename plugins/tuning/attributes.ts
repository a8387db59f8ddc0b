import { setAllmulti, setMac, setMtu, setPromisc, setTxQLen, type LinkInfo, type RtNetlinkSocket } from '../../lib/netlink';
import type { SavedAttributes } from './backup';

/** The link's current values of the attributes `wanted` sets. */
export function currentAttributes(link: LinkInfo, wanted: SavedAttributes): SavedAttributes {
  const out: SavedAttributes = {};
  if (wanted.mac !== undefined) out.mac = link.mac;
  if (wanted.mtu !== undefined) out.mtu = link.mtu;
  if (wanted.promisc !== undefined) out.promisc = link.promisc;
  if (wanted.allmulti !== undefined) out.allmulti = link.allmulti;
  if (wanted.txQLen !== undefined) out.txQLen = link.txQLen;
  return out;
}

export async function applyAttributes(sock: RtNetlinkSocket, link: LinkInfo, attrs: SavedAttributes): Promise<void> {
  if (attrs.mtu !== undefined && attrs.mtu !== link.mtu) await setMtu(sock, link, attrs.mtu);
  if (attrs.mac !== undefined && attrs.mac !== link.mac) await setMac(sock, link, attrs.mac);
  if (attrs.promisc !== undefined && attrs.promisc !== link.promisc) await setPromisc(sock, link, attrs.promisc);
  if (attrs.allmulti !== undefined && attrs.allmulti !== link.allmulti) await setAllmulti(sock, link, attrs.allmulti);
  if (attrs.txQLen !== undefined && attrs.txQLen !== link.txQLen) await setTxQLen(sock, link, attrs.txQLen);
}

/** The attributes of `attrs` that differ on `link`, by name. */
export function differences(link: LinkInfo, attrs: SavedAttributes): string[] {
  const current = currentAttributes(link, attrs);
  return (Object.keys(attrs) as Array<keyof SavedAttributes>)
    .filter((k) => attrs[k] !== undefined && current[k] !== attrs[k])
    .map((k) => `${k} is ${current[k]}, expected ${attrs[k]}`);
}
