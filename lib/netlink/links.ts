import type { RtNetlinkSocket } from 'netlink/dist/rt/rt';
import { Errno, NetlinkError } from '../errors';
import { call } from './socket';

export interface LinkInfo {
  index: number;
  name: string;
  up: boolean;
  loopback: boolean;
  mac?: string;
  mtu?: number;
  masterIndex?: number;
}

type LinkMessage = Awaited<ReturnType<RtNetlinkSocket['getLinks']>>[number];

function toLinkInfo(msg: LinkMessage): LinkInfo {
  return {
    index: msg.data.index ?? 0,
    name: msg.attrs.ifname ?? '',
    up: Boolean(msg.data.flags?.up),
    loopback: Boolean(msg.data.flags?.loopback),
    mac: msg.attrs.address ? formatMac(msg.attrs.address) : undefined,
    mtu: msg.attrs.mtu,
    masterIndex: msg.attrs.master,
  };
}

export function formatMac(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The link called `name`, or undefined when there is none. */
export async function linkByName(sock: RtNetlinkSocket, name: string): Promise<LinkInfo | undefined> {
  try {
    const [msg] = await call(`get link ${JSON.stringify(name)}`, () => sock.getLink({}, { ifname: name }));
    return msg ? toLinkInfo(msg) : undefined;
  } catch (err) {
    if (err instanceof NetlinkError && (err.errno === Errno.ENODEV || err.errno === Errno.ENOENT)) return undefined;
    throw err;
  }
}

export async function listLinks(sock: RtNetlinkSocket): Promise<LinkInfo[]> {
  return (await call('list links', () => sock.getLinks())).map(toLinkInfo);
}

export async function setLinkUp(sock: RtNetlinkSocket, link: LinkInfo, up: boolean): Promise<void> {
  await call(`set link ${JSON.stringify(link.name)} ${up ? 'up' : 'down'}`, () =>
    sock.setLink({ index: link.index, flags: { up: up || undefined }, change: { up: true } }),
  );
}
