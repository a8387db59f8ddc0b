import { Errno, SyscallError } from '../errors';
import { loadKoffi } from '../start/native';

/**
 * A blocking AF_UNIX stream socket with a send and receive timeout, through koffi: what a
 * synchronous client of a local daemon needs (D-Bus, where every caller here is synchronous).
 * Node's own sockets would force every caller up the chain to be asynchronous.
 */
export interface UnixStream {
  write(data: Buffer): void;
  /** Up to `max` bytes, waiting at most the timeout; an empty buffer at end of stream. */
  read(max: number): Buffer;
  close(): void;
}

/** A path in the file system, or a name in the abstract namespace (Linux, no leading NUL). */
export type UnixAddress = { path: string } | { abstract: string };

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SO_SNDTIMEO = 21;
const MSG_NOSIGNAL = 0x4000;
const SUN_PATH_MAX = 108;

interface StreamCalls {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  close(fd: number): number;
  errno(): number;
}

let bound: StreamCalls | undefined;

function calls(): StreamCalls {
  if (bound) return bound;
  const koffi = loadKoffi();
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const void *value, unsigned int len)');
  const connect = lib.func('int connect(int fd, const void *addr, unsigned int len)');
  const send = lib.func('long send(int fd, const void *buf, size_t len, int flags)');
  const recv = lib.func('long recv(int fd, _Out_ void *buf, size_t len, int flags)');
  const close = lib.func('int close(int fd)');
  bound = {
    socket: (domain, type, protocol) => socket(domain, type, protocol),
    setsockopt: (fd, level, name, value, len) => setsockopt(fd, level, name, value, len),
    connect: (fd, addr, len) => connect(fd, addr, len),
    send: (fd, buf, len, flags) => Number(send(fd, buf, len, flags)),
    recv: (fd, buf, len, flags) => Number(recv(fd, buf, len, flags)),
    close: (fd) => close(fd),
    errno: () => koffi.errno(),
  };
  return bound;
}

/** struct sockaddr_un, and the length connect(2) takes for it. */
export function unixSocketAddress(address: UnixAddress): Buffer {
  const name = 'path' in address ? Buffer.from(address.path) : Buffer.concat([Buffer.from([0]), Buffer.from(address.abstract)]);
  if (name.length >= SUN_PATH_MAX) throw new SyscallError(Errno.EINVAL, 'connect(AF_UNIX)', describe(address));
  const addr = Buffer.alloc(2 + name.length);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, 2);
  return addr;
}

const describe = (address: UnixAddress): string => ('path' in address ? address.path : `@${address.abstract}`);

function timeval(ms: number): Buffer {
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
  tv.writeBigInt64LE(BigInt((ms % 1000) * 1000), 8);
  return tv;
}

/** Connects, waiting at most `timeoutMs` for the connection and then for each read and write. */
export function connectUnixStream(address: UnixAddress, timeoutMs: number): UnixStream {
  const c = calls();
  const target = describe(address);
  const fd = c.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SyscallError(c.errno(), 'socket(AF_UNIX)', target);
  try {
    const tv = timeval(timeoutMs);
    for (const [option, name] of [
      [SO_RCVTIMEO, 'SO_RCVTIMEO'],
      [SO_SNDTIMEO, 'SO_SNDTIMEO'],
    ] as const) {
      if (c.setsockopt(fd, SOL_SOCKET, option, tv, tv.length) !== 0) throw new SyscallError(c.errno(), `setsockopt(${name})`, target);
    }
    const addr = unixSocketAddress(address);
    if (c.connect(fd, addr, addr.length) !== 0) throw new SyscallError(c.errno(), 'connect(AF_UNIX)', target);
  } catch (err) {
    c.close(fd);
    throw err;
  }
  let open = true;
  const retrying = (call: () => number, syscall: string): number => {
    for (;;) {
      const n = call();
      if (n >= 0) return n;
      const errno = c.errno();
      if (errno !== Errno.EINTR) throw new SyscallError(errno, syscall, target);
    }
  };
  return {
    write(data) {
      for (let sent = 0; sent < data.length; ) {
        const rest = data.subarray(sent);
        sent += retrying(() => c.send(fd, rest, rest.length, MSG_NOSIGNAL), 'send(AF_UNIX)');
      }
    },
    read(max) {
      const buffer = Buffer.alloc(max);
      const n = retrying(() => c.recv(fd, buffer, max, 0), 'recv(AF_UNIX)');
      return buffer.subarray(0, n);
    },
    close() {
      if (!open) return;
      open = false;
      c.close(fd);
    },
  };
}
