import { describe, expect, it } from 'vitest';
import { bodyLength, FrameError, HEADER_BYTES, MAX_BODY_BYTES, parseBody, PROTOCOL } from './protocol';

/** A request frame as lib/workers/client.c writes it. */
function frame(fields: string[], version = PROTOCOL, announced?: number): Buffer {
  const body = Buffer.from(fields.map((f) => `${f}\0`).join(''));
  const header = Buffer.alloc(HEADER_BYTES);
  header.write('CNTR', 0, 'latin1');
  header.writeUInt32LE(version, 4);
  header.writeUInt32LE(announced ?? body.length, 8);
  return Buffer.concat([header, body]);
}

describe('worker request frames', () => {
  it("reads the client's frame: type, working directory, umask, environment (values may hold '=')", () => {
    const f = frame(['bridge', '/root', '22', 'CNI_COMMAND=ADD', 'CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=a', 'EMPTY=']);
    expect(bodyLength(f)).toBe(f.length - HEADER_BYTES);
    expect(parseBody(f.subarray(HEADER_BYTES))).toEqual({
      type: 'bridge',
      cwd: '/root',
      umask: 0o22,
      env: { CNI_COMMAND: 'ADD', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=a', EMPTY: '' },
    });
  });

  it.each([
    ['another magic', Buffer.concat([Buffer.from('HTTP'), frame(['x', '/', '0']).subarray(4)]), /not a cni-ts request/],
    ['another protocol version', frame(['bridge', '/', '22'], PROTOCOL + 1), /protocol 2/],
    ['an oversized body', frame(['bridge', '/', '22'], PROTOCOL, MAX_BODY_BYTES + 1), /over the limit/],
    ['a short header', Buffer.from('CNTR'), /not a cni-ts request/],
  ])('refuses %s', (_what, f, message) => {
    expect(() => bodyLength(f)).toThrow(FrameError);
    expect(() => bodyLength(f)).toThrow(message);
  });

  it.each([
    ['no final NUL', Buffer.from('bridge\0/\x0022'), /does not end with a NUL/],
    ['a type that is a path', frame(['../../bin/sh', '/', '22']).subarray(HEADER_BYTES), /not a plugin name/],
    ['a relative working directory', frame(['bridge', 'tmp', '22']).subarray(HEADER_BYTES), /not an absolute path/],
    ['a umask that is not octal', frame(['bridge', '/', '99']).subarray(HEADER_BYTES), /not octal/],
    ['an environment entry without a name', frame(['bridge', '/', '22', '=x']).subarray(HEADER_BYTES), /has no name/],
    ['garbage', Buffer.from([0xff, 0xfe, 0]), /not a plugin name/],
  ])('refuses a body with %s', (_what, body, message) => {
    expect(() => parseBody(body)).toThrow(FrameError);
    expect(() => parseBody(body)).toThrow(message);
  });
});
