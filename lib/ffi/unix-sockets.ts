import { Errno, SyscallError } from '../errors';
import { loadKoffi } from '../start/native';

/** A path in the file system, or a name in the abstract namespace (Linux, no leading NUL). */
export type UnixAddress = { path: string } | { abstract: string };

/**
 * The socket calls Node does not offer on a raw descriptor (a listening socket shared by several
 * processes, blocking accept and I/O, descriptors passed with SCM_RIGHTS, the peer's
 * credentials), bound lazily: a plain plugin run never loads them. x86_64 and aarch64 Linux layouts.
 */
export interface SocketCalls {
  /**
   * A unix stream socket connected to `address`, whose connect, sends and receives each wait at
   * most `timeoutMs` (then EAGAIN): a synchronous client of a local daemon (D-Bus).
   */
  connectUnix(address: UnixAddress, timeoutMs: number): number;
  /** Sends all of `data` (blocking; no SIGPIPE). */
  send(fd: number, data: Buffer): void;
  /** Up to `max` bytes (blocking); empty at end of stream. */
  recv(fd: number, max: number): Buffer;
  /** A unix stream socket listening at `path` (which must not exist); returns its descriptor. */
  listenUnix(path: string, backlog: number): number;
  /** The path a unix socket is bound to (getsockname). */
  boundPath(fd: number): string;
  /** Whether something accepts connections at `path` (a live supervisor), as opposed to a stale socket file. */
  answersAt(path: string): boolean;
  /** Blocks until a connection arrives; returns its descriptor. */
  accept(fd: number): number;
  /** One recvmsg: the bytes and the descriptors that came with them. */
  receive(fd: number, size: number): { data: Buffer; fds: number[] };
  peerCredentials(fd: number): { pid: number; uid: number };
  setReceiveTimeout(fd: number, ms: number): void;
  /** The kernel sends SIGIO (default action: terminate) to this process when the socket's peer hangs up or sends. */
  killOnHangup(fd: number, on: boolean): void;
  /** Whether the peer has already hung up. */
  hungUp(fd: number): boolean;
  dup2(from: number, to: number): void;
  /** A close-on-exec duplicate of `fd`. */
  dupCloseOnExec(fd: number): number;
  /** Marks `fd` close-on-exec: no process a call starts inherits it. */
  closeOnExec(fd: number): void;
  close(fd: number): void;
  /** Calls each binding once on a socket of its own: koffi prepares a function on its first call (milliseconds). */
  warmUp(): void;
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const SO_RCVTIMEO = 20;
const SO_SNDTIMEO = 21;
const MSG_NOSIGNAL = 0x4000;
const SUN_PATH_MAX = 108;
const SCM_RIGHTS = 1;
const F_GETFL = 3;
const F_SETFL = 4;
const F_SETOWN = 8;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const F_DUPFD_CLOEXEC = 1030;
const O_ASYNC = 0o20000;
const POLLIN = 0x1;
const POLLHUP = 0x10;
const POLLRDHUP = 0x2000;

let bound: SocketCalls | undefined;

export function socketCalls(): SocketCalls {
  if (bound) return bound;
  const koffi = loadKoffi();
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const bind = lib.func('int bind(int fd, void *addr, uint32_t len)');
  const listen = lib.func('int listen(int fd, int backlog)');
  const connect = lib.func('int connect(int fd, void *addr, uint32_t len)');
  const getsockname = lib.func('int getsockname(int fd, void *addr, void *len)');
  const accept4 = lib.func('int accept4(int fd, void *addr, void *len, int flags)');
  const recvmsg = lib.func('long recvmsg(int fd, void *msg, int flags)');
  const getsockopt = lib.func('int getsockopt(int fd, int level, int name, void *value, void *len)');
  const setsockopt = lib.func('int setsockopt(int fd, int level, int name, void *value, uint32_t len)');
  const fcntl = lib.func('int fcntl(int fd, int cmd, long arg)');
  const getpid = lib.func('int getpid()');
  const poll = lib.func('int poll(void *fds, unsigned long n, int timeout)');
  const dup2 = lib.func('int dup2(int from, int to)');
  const close = lib.func('int close(int fd)');
  const sendCall = lib.func('long send(int fd, const void *buf, size_t len, int flags)');
  const recvCall = lib.func('long recv(int fd, _Out_ void *buf, size_t len, int flags)');
  const fail = (syscall: string, target: string | number): never => {
    throw new SyscallError(koffi.errno(), syscall, typeof target === 'number' ? `fd ${target}` : target);
  };
  const check = (result: number, syscall: string, target: string | number): number => (result < 0 ? fail(syscall, target) : result);
  const newSocket = () => check(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), 'socket', 'AF_UNIX');
  const setSocketTimeout = (fd: number, option: number, name: string, ms: number) => {
    // 0 would mean no timeout at all
    const whole = Math.max(1, Math.ceil(ms));
    const tv = Buffer.alloc(16);
    tv.writeBigInt64LE(BigInt(Math.floor(whole / 1000)), 0);
    tv.writeBigInt64LE(BigInt((whole % 1000) * 1000), 8);
    check(setsockopt(fd, SOL_SOCKET, option, tv, 16), `setsockopt ${name}`, fd);
  };
  /** Retried on EINTR; another failure throws. */
  const retrying = (call: () => number, syscall: string, fd: number): number => {
    for (;;) {
      const n = call();
      if (n >= 0) return n;
      if (koffi.errno() !== Errno.EINTR) fail(syscall, fd);
    }
  };

  bound = {
    connectUnix(address, timeoutMs) {
      const fd = newSocket();
      try {
        setSocketTimeout(fd, SO_RCVTIMEO, 'SO_RCVTIMEO', timeoutMs);
        setSocketTimeout(fd, SO_SNDTIMEO, 'SO_SNDTIMEO', timeoutMs);
        const addr = unixAddress(address);
        check(connect(fd, addr, addr.length), 'connect', describeAddress(address));
        return fd;
      } catch (err) {
        close(fd);
        throw err;
      }
    },
    send(fd, data) {
      for (let sent = 0; sent < data.length; ) {
        const rest = data.subarray(sent);
        sent += retrying(() => Number(sendCall(fd, rest, rest.length, MSG_NOSIGNAL)), 'send', fd);
      }
    },
    recv(fd, max) {
      const buffer = Buffer.alloc(max);
      return buffer.subarray(
        0,
        retrying(() => Number(recvCall(fd, buffer, max, 0)), 'recv', fd),
      );
    },
    listenUnix(path, backlog) {
      const fd = newSocket();
      const addr = unixAddress({ path });
      check(bind(fd, addr, addr.length), 'bind', path);
      check(listen(fd, backlog), 'listen', path);
      return fd;
    },
    boundPath(fd) {
      const addr = Buffer.alloc(110);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(110);
      check(getsockname(fd, addr, len), 'getsockname', fd);
      const path = addr.subarray(2, len.readUInt32LE(0));
      const end = path.indexOf(0);
      return path.subarray(0, end < 0 ? path.length : end).toString();
    },
    answersAt(path) {
      const fd = newSocket();
      try {
        const addr = unixAddress({ path });
        return connect(fd, addr, addr.length) === 0;
      } finally {
        close(fd);
      }
    },
    accept(fd) {
      for (;;) {
        const conn = accept4(fd, null, null, SOCK_CLOEXEC);
        if (conn >= 0) return conn;
        if (koffi.errno() !== 4 /* EINTR */) fail('accept', fd);
      }
    },
    receive(fd, size) {
      const data = Buffer.alloc(size);
      const control = Buffer.alloc(64);
      const iov = Buffer.alloc(16);
      iov.writeBigUInt64LE(koffi.address(data), 0);
      iov.writeBigUInt64LE(BigInt(size), 8);
      // struct msghdr: name, namelen, iov, iovlen, control, controllen, flags
      const msg = Buffer.alloc(56);
      msg.writeBigUInt64LE(koffi.address(iov), 16);
      msg.writeBigUInt64LE(1n, 24);
      msg.writeBigUInt64LE(koffi.address(control), 32);
      msg.writeBigUInt64LE(BigInt(control.length), 40);
      const n = Number(recvmsg(fd, msg, 0x40000000 /* MSG_CMSG_CLOEXEC */));
      if (n < 0) fail('recvmsg', fd);
      const fds: number[] = [];
      const controlLength = Number(msg.readBigUInt64LE(40));
      // struct cmsghdr: len (size_t), level, type, then the data
      for (let off = 0; off + 16 <= controlLength; ) {
        const len = Number(control.readBigUInt64LE(off));
        if (len < 16) break;
        if (control.readInt32LE(off + 8) === SOL_SOCKET && control.readInt32LE(off + 12) === SCM_RIGHTS) {
          for (let p = off + 16; p + 4 <= off + len; p += 4) fds.push(control.readInt32LE(p));
        }
        off += (len + 7) & ~7;
      }
      return { data: data.subarray(0, n), fds };
    },
    peerCredentials(fd) {
      const cred = Buffer.alloc(12);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(12);
      check(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, len), 'getsockopt SO_PEERCRED', fd);
      return { pid: cred.readInt32LE(0), uid: cred.readUInt32LE(4) };
    },
    setReceiveTimeout(fd, ms) {
      setSocketTimeout(fd, SO_RCVTIMEO, 'SO_RCVTIMEO', ms);
    },
    killOnHangup(fd, on) {
      if (on) check(fcntl(fd, F_SETOWN, getpid()), 'fcntl F_SETOWN', fd);
      const flags = check(fcntl(fd, F_GETFL, 0), 'fcntl F_GETFL', fd);
      check(fcntl(fd, F_SETFL, on ? flags | O_ASYNC : flags & ~O_ASYNC), 'fcntl F_SETFL', fd);
    },
    hungUp(fd) {
      const p = Buffer.alloc(8);
      p.writeInt32LE(fd, 0);
      p.writeInt16LE(POLLIN | POLLRDHUP, 4);
      if (poll(p, 1, 0) <= 0) return false;
      return (p.readInt16LE(6) & (POLLHUP | POLLRDHUP)) !== 0;
    },
    dup2(from, to) {
      check(dup2(from, to), 'dup2', from);
    },
    dupCloseOnExec(fd) {
      return check(fcntl(fd, F_DUPFD_CLOEXEC, 3), 'fcntl F_DUPFD_CLOEXEC', fd);
    },
    closeOnExec(fd) {
      check(fcntl(fd, F_SETFD, FD_CLOEXEC), 'fcntl F_SETFD', fd);
    },
    close(fd) {
      close(fd);
    },
    warmUp() {
      const fd = newSocket();
      try {
        bound!.setReceiveTimeout(fd, 1);
        bound!.peerCredentials(fd);
        bound!.killOnHangup(fd, true);
        bound!.killOnHangup(fd, false);
        bound!.hungUp(fd);
        bound!.dup2(fd, fd);
        try {
          bound!.receive(fd, 1);
        } catch {
          // not connected: the call is what was wanted
        }
      } finally {
        close(fd);
      }
    },
  };
  return bound;
}

/** struct sockaddr_un of the address's exact length (an abstract name's length is part of it). */
export function unixAddress(address: UnixAddress): Buffer {
  const name = 'path' in address ? Buffer.from(`${address.path}\0`) : Buffer.concat([Buffer.from([0]), Buffer.from(address.abstract)]);
  if (name.length > SUN_PATH_MAX) throw new SyscallError(Errno.EINVAL, 'sockaddr_un', describeAddress(address));
  const addr = Buffer.alloc(2 + name.length);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, 2);
  return addr;
}

const describeAddress = (address: UnixAddress): string => ('path' in address ? address.path : `@${address.abstract}`);
