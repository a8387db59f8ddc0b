import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Errno } from '../errors';
import { unixAddress } from './unix-sockets';
import { connectUnixStream } from './unix-stream';

let dir: string | undefined;
let server: Server | undefined;
afterEach(() => {
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  server = dir = undefined;
});

/** A listener that takes connections (the kernel's backlog does, whatever the event loop does) and never answers. */
async function silentServer(): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), 'cni-ts-unix-'));
  const path = join(dir, 'sock');
  server = createServer(() => undefined);
  await new Promise<void>((resolve) => server!.listen(path, resolve));
  return path;
}

describe('blocking unix stream', () => {
  it('sockaddr_un: a path ends with its NUL; an abstract name starts with one and is exactly as long as it is', () => {
    expect(unixAddress({ path: '/a' })).toEqual(Buffer.from([1, 0, 0x2f, 0x61, 0]));
    expect(unixAddress({ abstract: 'x' })).toEqual(Buffer.from([1, 0, 0, 0x78]));
    expect(() => unixAddress({ path: `/${'a'.repeat(120)}` })).toThrow(/sockaddr_un/);
  });

  it('a read that gets no answer gives up after the timeout with EAGAIN, instead of blocking the caller for good', async () => {
    const stream = connectUnixStream({ path: await silentServer() }, 200);
    try {
      stream.write(Buffer.from('hello'));
      const started = Date.now();
      expect(() => stream.read(16)).toThrow(expect.objectContaining({ errno: Errno.EAGAIN }));
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    } finally {
      stream.close();
    }
  });

  it('nobody listening: the connect fails with ENOENT, which the firewalld client reads as no bus', () => {
    expect(() => connectUnixStream({ path: '/nonexistent/cni-ts/sock' }, 200)).toThrow(expect.objectContaining({ errno: Errno.ENOENT }));
  });
});
