import type { RtNetlinkSocket } from 'netlink/dist/rt/rt';
import { formatLinkMessage } from 'netlink/dist/rt/structs';
import { toBuffer } from './encode';
import type { LinkInfo } from './links';
import { call } from './socket';

const AF_BRIDGE = 7;
const RTM_SETLINK = 19;
const IFLA_PROTINFO = 12;
const IFLA_BRPORT_MODE = 4;
const NLA_F_NESTED = 0x8000;

/**
 * Hairpin mode of a bridge port: IFLA_BRPORT_MODE inside IFLA_PROTINFO. The kernel reads a
 * PROTINFO without NLA_F_NESTED as a bare port state, and the `netlink` package never sets that
 * flag, so this one attribute is encoded by hand. (sysfs would do too, but may be read-only.)
 */
export async function setHairpin(sock: RtNetlinkSocket, port: LinkInfo, on: boolean): Promise<void> {
  const header = toBuffer((out) => formatLinkMessage({ kind: 'link', data: { family: AF_BRIDGE, index: port.index }, attrs: {} }, out));
  const inner = Buffer.alloc(8); // nlattr(4) + u8 + 3 bytes padding
  inner.writeUInt16LE(5, 0);
  inner.writeUInt16LE(IFLA_BRPORT_MODE, 2);
  inner.writeUInt8(on ? 1 : 0, 4);
  const outer = Buffer.alloc(4);
  outer.writeUInt16LE(4 + inner.length, 0);
  outer.writeUInt16LE(IFLA_PROTINFO | NLA_F_NESTED, 2);
  await call(`set hairpin on bridge port ${JSON.stringify(port.name)}`, () => sock.request(RTM_SETLINK, [header, outer, inner]));
}
