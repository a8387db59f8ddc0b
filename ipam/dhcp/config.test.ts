import { describe, expect, it } from 'vitest';
import { cmdArgs } from '../../test/helpers/cmd-args';
import { DEFAULT_SOCKET_PATH, parseConfig, socketPathOf } from './config';
import { DEFAULT_REQUESTED, clientIdOf, clientIdOption, parseOptionName, providedOptions, requestedOptions } from './options';
import { parseCniArgs } from '../../lib/skel';

const thrown = (fn: () => unknown): { code?: number; message?: string } => {
  try {
    fn();
  } catch (err) {
    return err as { code?: number; message?: string };
  }
  throw new Error('did not throw');
};

const conf = (ipam: Record<string, unknown>) => cmdArgs({ type: 'macvlan', ipam: { type: 'dhcp', ...ipam } });

describe('dhcp config', () => {
  it('defaults: the reference socket, the default request list, nothing provided, no priority', () => {
    expect(parseConfig(conf({}))).toEqual({ cniVersion: '1.0.0', network: 'net1', socketPath: DEFAULT_SOCKET_PATH, provide: new Map(), request: DEFAULT_REQUESTED, priority: 0 });
    expect(DEFAULT_SOCKET_PATH).toBe('/run/cni/dhcp.sock');
    // Go decodes null into the empty value
    expect(parseConfig(conf({ daemonSocketPath: null, provide: null, request: null, priority: null })).socketPath).toBe(DEFAULT_SOCKET_PATH);
  });

  it('takes daemonSocketPath, provide, request and priority as the reference does', () => {
    const c = parseConfig(
      cmdArgs(
        {
          type: 'macvlan',
          ipam: {
            type: 'dhcp',
            daemonSocketPath: '/run/other/dhcp.sock',
            provide: [
              { option: 'host-name', fromArg: 'K8S_POD_NAME' },
              { option: '60', value: 'cni' },
            ],
            request: [{ option: '42' }, { option: 'routers' }],
            priority: 100,
          },
        },
        { cniArgs: 'IgnoreUnknown=1;K8S_POD_NAME=web-1' },
      ),
    );
    expect(c.socketPath).toBe('/run/other/dhcp.sock');
    expect(c.provide).toEqual(
      new Map([
        [12, Buffer.from('web-1')],
        [60, Buffer.from('cni')],
      ]),
    );
    expect(c.request).toEqual([42, 3, 1, 6, 15, 119, 121]);
    expect(c.priority).toBe(100);
  });

  it('names the field of what it refuses (7)', () => {
    expect(thrown(() => parseConfig(cmdArgs({ type: 'macvlan' })))).toMatchObject({ code: 7, message: expect.stringContaining('field "ipam"') });
    expect(thrown(() => parseConfig(conf({ provide: [{ option: 'nonsense', value: 'x' }] })))).toMatchObject({
      code: 7,
      message: expect.stringContaining('invalid field "ipam.provide[0].option": "nonsense" is neither an option number (0 to 255) nor one of dhcp-client-identifier'),
    });
    expect(thrown(() => parseConfig(conf({ request: [{ option: '256' }] })))).toMatchObject({ code: 7, message: expect.stringContaining('"ipam.request[0].option"') });
    expect(thrown(() => parseConfig(conf({ provide: [{ option: '53', value: 'x' }] })))).toMatchObject({
      code: 7,
      message: expect.stringContaining("option 53 is the client's own"),
    });
    expect(thrown(() => parseConfig(conf({ provide: [{ option: 'host-name', value: 'x'.repeat(256) }] })))).toMatchObject({
      code: 7,
      message: 'invalid field "ipam.provide[0].value": the value of option "host-name" is 256 bytes; the limit is 255',
    });
    expect(thrown(() => parseConfig(conf({ daemonSocketPath: 'run/dhcp.sock' })))).toMatchObject({
      code: 7,
      message: expect.stringContaining('"ipam.daemonSocketPath": expected an absolute path'),
    });
    expect(thrown(() => parseConfig(conf({ priority: -1 })))).toMatchObject({ code: 7, message: expect.stringContaining('"ipam.priority"') });
    expect(thrown(() => parseConfig(conf({ provide: [{ value: 'x' }] })))).toMatchObject({ code: 7, message: expect.stringContaining('"ipam.provide[0].option"') });
  });

  it("DEL's lenient reading of the socket: the config's when it is an absolute path, else the default", () => {
    expect(socketPathOf({ ipam: { daemonSocketPath: '/x/y.sock' } })).toBe('/x/y.sock');
    for (const ipam of [{ daemonSocketPath: 42 }, { daemonSocketPath: 'rel' }, {}, 'junk']) expect(socketPathOf({ ipam })).toBe(DEFAULT_SOCKET_PATH);
  });
});

describe('dhcp options', () => {
  it('option names: the reference six, or a decimal code up to 255', () => {
    expect(['dhcp-client-identifier', 'subnet-mask', 'routers', 'host-name', 'user-class', 'vendor-class-identifier', '0', '121', '255'].map(parseOptionName)).toEqual([
      61, 1, 3, 12, 77, 60, 0, 121, 255,
    ]);
    for (const bad of ['', '256', '-1', '0x10', '1.5', 'constructor', 'ROUTERS', ' 3']) expect(parseOptionName(bad), bad).toBeUndefined();
  });

  it('provide: value, then the CNI_ARGS value named by fromArg (which wins); a later entry replaces an earlier one; a missing arg sends nothing', () => {
    const args = parseCniArgs('POD=web-1;EMPTY=');
    expect(providedOptions([{ option: 'host-name', value: 'fallback', fromArg: 'POD' }], args)).toEqual(new Map([[12, Buffer.from('web-1')]]));
    expect(providedOptions([{ option: 'host-name', value: 'fallback', fromArg: 'ABSENT' }], args)).toEqual(new Map([[12, Buffer.from('fallback')]]));
    expect(providedOptions([{ option: 'host-name', fromArg: 'ABSENT' }], args)).toEqual(new Map());
    expect(providedOptions([{ option: 'host-name', fromArg: 'EMPTY' }], args)).toEqual(new Map([[12, Buffer.alloc(0)]]));
    expect(
      providedOptions(
        [
          { option: '12', value: 'a' },
          { option: 'host-name', value: 'b' },
        ],
        args,
      ),
    ).toEqual(new Map([[12, Buffer.from('b')]]));
  });

  it('request: its options in order, then the defaults unless one entry says skipDefault; each code once', () => {
    expect(requestedOptions([])).toEqual([3, 1, 6, 15, 119, 121]);
    expect(requestedOptions([{ option: '121' }, { option: '42' }])).toEqual([121, 42, 3, 1, 6, 15, 119]);
    expect(requestedOptions([{ skipDefault: true }])).toEqual([]);
    expect(requestedOptions([{ option: 'routers', skipDefault: true }, { option: '' }, { option: null }])).toEqual([3]);
  });

  it("the client id is the reference's: <container id>/<network>/<ifname>, at most 254 bytes, type 0 in option 61", () => {
    expect(clientIdOf('abc', 'net', 'eth0')).toBe('abc/net/eth0');
    const long = clientIdOf('c'.repeat(300), 'net', 'eth0');
    expect(long).toBe('c'.repeat(254));
    expect(clientIdOption('abc/net/eth0')).toEqual(Buffer.from('\0abc/net/eth0'));
    expect(clientIdOption(long).length).toBe(255);
  });
});
