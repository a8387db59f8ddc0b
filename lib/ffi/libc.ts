/** The few libc calls Node does not offer, bound lazily so verbs that need none pay nothing. */
export interface Libc {
  setns(fd: number, nstype: number): number;
  flock(fd: number, operation: number): number;
  ioctl(fd: number, request: number): number;
  errno(): number;
}

export const CLONE_NEWNET = 0x40000000;
export const NS_GET_NSTYPE = 0xb703;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

let bound: Libc | undefined;

export function libc(): Libc {
  if (bound) return bound;
  // required here, not imported at the top, so a plugin run that needs no syscall never loads the addon
  const koffi = require('koffi') as typeof import('koffi');
  const lib = koffi.load('libc.so.6');
  const setns = lib.func('int setns(int fd, int nstype)');
  const flock = lib.func('int flock(int fd, int operation)');
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, ...)');
  bound = {
    setns: (fd, nstype) => setns(fd, nstype),
    flock: (fd, operation) => flock(fd, operation),
    ioctl: (fd, request) => ioctl(fd, request),
    errno: () => koffi.errno(),
  };
  return bound;
}
