import { socketCalls, type UnixAddress } from './unix-sockets';

export type { UnixAddress } from './unix-sockets';

/**
 * A blocking unix stream connection with a timeout on each step: what a synchronous client of a
 * local daemon needs (D-Bus, whose every caller here is synchronous). Node's own sockets would
 * force every caller up the chain to be asynchronous.
 */
export interface UnixStream {
  write(data: Buffer): void;
  /** Up to `max` bytes, waiting at most the timeout; an empty buffer at end of stream. */
  read(max: number): Buffer;
  close(): void;
}

/** Connects, waiting at most `timeoutMs` for the connection and then for each read and write (SyscallError EAGAIN). */
export function connectUnixStream(address: UnixAddress, timeoutMs: number): UnixStream {
  const calls = socketCalls();
  const fd = calls.connectUnix(address, timeoutMs);
  let open = true;
  return {
    write: (data) => calls.send(fd, data),
    read: (max) => calls.recv(fd, max),
    close() {
      if (!open) return;
      open = false;
      calls.close(fd);
    },
  };
}
