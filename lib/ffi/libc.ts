import { loadKoffi } from '../start/native';

/** The few libc calls Node does not offer, bound lazily so verbs that need none pay nothing. */
export interface Libc {
  setns(fd: number, nstype: number): number;
  flock(fd: number, operation: number): number;
  ioctl(fd: number, request: number): number;
  prctl(option: number, arg: number): number;
  getppid(): number;
  errno(): number;
}

export const CLONE_NEWNET = 0x40000000;
export const NS_GET_NSTYPE = 0xb703;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
export const PR_SET_PDEATHSIG = 1;

let bound: Libc | undefined;

export function libc(): Libc {
  if (bound) return bound;
  // required here, not imported at the top, so a plugin run that needs no syscall never loads the addon
  const koffi = loadKoffi();
  const lib = koffi.load('libc.so.6');
  const setns = lib.func('int setns(int fd, int nstype)');
  const flock = lib.func('int flock(int fd, int operation)');
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, ...)');
  const prctl = lib.func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)');
  const getppid = lib.func('int getppid()');
  bound = {
    setns: (fd, nstype) => setns(fd, nstype),
    flock: (fd, operation) => flock(fd, operation),
    ioctl: (fd, request) => ioctl(fd, request),
    prctl: (option, arg) => prctl(option, arg, 0, 0, 0),
    getppid: () => getppid(),
    errno: () => koffi.errno(),
  };
  return bound;
}
