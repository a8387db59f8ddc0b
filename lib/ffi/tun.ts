import { closeSync, openSync } from 'node:fs';
import { SyscallError } from '../errors';
import { loadKoffi } from '../start/native';

/** TUNSETIFF and friends: _IOW('T', n, int), as on x86-64 and arm64. */
const TUNSETIFF = 0x400454ca;
const TUNSETPERSIST = 0x400454cb;
const TUNSETOWNER = 0x400454cc;
const TUNSETGROUP = 0x400454ce;

export const IFF_TAP = 0x0002;
export const IFF_MULTI_QUEUE = 0x0100;
export const IFF_NO_PI = 0x1000;
export const IFF_VNET_HDR = 0x4000;

/** struct ifreq: the name in 16 bytes, then a union whose first member is the short ifr_flags. */
const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;

export interface TapSpec {
  name: string;
  /** IFF_TAP with IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE as wanted. */
  flags: number;
  owner?: number;
  group?: number;
}

type Ioctl = (fd: number, request: number, ...args: unknown[]) => number;
let bound: { ioctl: Ioctl; errno: () => number } | undefined;

function libc() {
  if (bound) return bound;
  const koffi = loadKoffi();
  const ioctl = koffi.load('libc.so.6').func('int ioctl(int fd, unsigned long request, ...)') as Ioctl;
  bound = { ioctl, errno: () => koffi.errno() };
  return bound;
}

/**
 * Creates a persistent tap device named `spec.name` in the network namespace the calling thread is
 * in (/dev/net/tun binds a device to the namespace it was opened in), as `ip tuntap add` does:
 * TUNSETIFF, TUNSETOWNER and TUNSETGROUP when given, TUNSETPERSIST; then the descriptor is closed
 * and the device stays. Synchronous, so it may run inside withNetns.
 */
export function createPersistentTap(spec: TapSpec): void {
  const { ioctl, errno } = libc();
  const fd = openSync('/dev/net/tun', 'r+');
  try {
    const ifr = Buffer.alloc(IFREQ_SIZE);
    ifr.write(spec.name, 0, IFNAMSIZ - 1, 'utf8');
    ifr.writeUInt16LE(spec.flags, IFNAMSIZ);
    const check = (result: number, what: string) => {
      if (result !== 0) throw new SyscallError(errno(), `ioctl ${what}`, spec.name);
    };
    check(ioctl(fd, TUNSETIFF, 'void *', ifr), 'TUNSETIFF');
    // until TUNSETPERSIST succeeds, closing the descriptor (below) takes the device away again
    if (spec.owner !== undefined) check(ioctl(fd, TUNSETOWNER, 'unsigned long', spec.owner), 'TUNSETOWNER');
    if (spec.group !== undefined) check(ioctl(fd, TUNSETGROUP, 'unsigned long', spec.group), 'TUNSETGROUP');
    check(ioctl(fd, TUNSETPERSIST, 'unsigned long', 1), 'TUNSETPERSIST');
  } finally {
    closeSync(fd);
  }
}
