import { describe, expect, it } from 'vitest';
import { lazyVerbs, runPlugin } from '../../lib/skel';
import { fakeIO } from '../../test/helpers/fake-io';

// the test's own namespace is a real one; CNI_NETNS_OVERRIDE lets skel accept it without root
const baseEnv = { CNI_CONTAINERID: 'c1', CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', CNI_NETNS_OVERRIDE: '1' };

const IPAM = {
  type: 'static',
  addresses: [{ address: '10.10.0.5/24', gateway: '10.10.0.1' }, { address: 'fd00::5/64' }],
  routes: [{ dst: '0.0.0.0/0' }, { dst: '192.0.2.0/24', gw: '10.10.0.254', mtu: 1400, table: 100 }],
  dns: { nameservers: ['10.10.0.53'], search: ['example'] },
};
const conf = (cniVersion: string, extra: Record<string, unknown> = {}) => ({ cniVersion, name: 'net1', type: 'bridge', ipam: IPAM, ...extra });

/** Runs the static plugin through skel, as the executable does, with a fake environment and stdin. */
async function run(command: string, stdin: object | string, env: Record<string, string> = {}) {
  const io = fakeIO({ ...baseEnv, CNI_COMMAND: command, ...env }, typeof stdin === 'string' ? stdin : JSON.stringify(stdin));
  const code = await runPlugin(
    lazyVerbs(() => import('./verbs')),
    { name: 'static', version: 'test' },
    io,
  );
  return { code, stdout: io.stdout, json: io.stdout ? JSON.parse(io.stdout) : undefined };
}

describe('static ADD', () => {
  it('returns addresses (no interface index), routes and dns in a 1.x result; 1.1 route fields kept', async () => {
    for (const version of ['1.0.0', '1.1.0']) {
      const r = await run('ADD', conf(version));
      expect(r.code, r.stdout).toBe(0);
      expect(r.json).toEqual({
        cniVersion: version,
        ips: [{ address: '10.10.0.5/24', gateway: '10.10.0.1' }, { address: 'fd00::5/64' }],
        routes: [{ dst: '0.0.0.0/0' }, { dst: '192.0.2.0/24', gw: '10.10.0.254', mtu: 1400, table: 100 }],
        dns: { nameservers: ['10.10.0.53'], search: ['example'] },
      });
    }
  });

  it('converts to 0.3.x and 0.4.0: ips carry their version, routes lose the 1.1 fields', async () => {
    for (const version of ['0.3.0', '0.3.1', '0.4.0']) {
      const r = await run('ADD', conf(version));
      expect(r.code, r.stdout).toBe(0);
      expect(r.json).toEqual({
        cniVersion: version,
        ips: [
          { version: '4', address: '10.10.0.5/24', gateway: '10.10.0.1' },
          { version: '6', address: 'fd00::5/64' },
        ],
        routes: [{ dst: '0.0.0.0/0' }, { dst: '192.0.2.0/24', gw: '10.10.0.254' }],
        dns: { nameservers: ['10.10.0.53'], search: ['example'] },
      });
    }
  });

  it('answers a bad config with one CNI error on stdout', async () => {
    const r = await run('ADD', conf('1.0.0'), { CNI_ARGS: 'IP=10.9.9.9' });
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ cniVersion: '1.0.0', code: 4, msg: 'invalid CNI_ARGS IP: expected an address with a prefix length, like "10.1.0.5/24", got "10.9.9.9"', details: '' });
  });
});

describe('static DEL', () => {
  it.each([
    ['no ipam', { cniVersion: '1.0.0', name: 'net1' }],
    ['ipam of the wrong shape', { cniVersion: '1.0.0', name: 'net1', ipam: 'static' }],
    ['a bad address', { cniVersion: '1.0.0', name: 'net1', ipam: { type: 'static', addresses: [{ address: 'bogus' }] } }],
    ['bad runtimeConfig.ips', { cniVersion: '1.0.0', name: 'net1', ipam: { type: 'static' }, runtimeConfig: { ips: 'x' } }],
  ])('succeeds on a config ADD refuses (%s), and prints nothing', async (_label, stdin) => {
    expect((await run('ADD', stdin)).code).toBe(1);
    const r = await run('DEL', stdin, { CNI_ARGS: 'IP=not-an-address' });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toBe('');
  });
});

describe('static CHECK', () => {
  const added = async (version = '1.0.0') => (await run('ADD', conf(version))).json;

  it('passes when prevResult holds every address with its gateway (any supported version)', async () => {
    for (const version of ['0.4.0', '1.0.0', '1.1.0']) {
      const r = await run('CHECK', { ...conf(version), prevResult: await added(version) });
      expect(r.code, r.stdout).toBe(0);
    }
    // what bridge returns: its interfaces, an interface index and a gateway it filled in
    const bridged = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'cni0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/run/netns/x' }],
      ips: [
        { address: '10.10.0.5/24', gateway: '10.10.0.1', interface: 2 },
        { address: 'fd00::5/64', gateway: 'fd00::1', interface: 2 },
      ],
    };
    expect((await run('CHECK', { ...conf('1.0.0'), prevResult: bridged })).code).toBe(0);
  });

  it.each([
    ['an address is missing', (ips: Array<Record<string, string>>) => ips.slice(1), 'address "10.10.0.5/24" (ipam.addresses[0]) of interface "eth0" is not in prevResult.ips'],
    [
      'the prefix length differs',
      (ips: Array<Record<string, string>>) => [{ ...ips[0], address: '10.10.0.5/16' }, ips[1]],
      'address "10.10.0.5/24" (ipam.addresses[0]) of interface "eth0" is "10.10.0.5/16" in prevResult.ips',
    ],
    [
      'the gateway differs',
      (ips: Array<Record<string, string>>) => [{ ...ips[0], gateway: '10.10.0.2' }, ips[1]],
      'address "10.10.0.5/24" (ipam.addresses[0]) of interface "eth0" has gateway "10.10.0.2" in prevResult.ips, not "10.10.0.1"',
    ],
    [
      'the gateway is missing',
      (ips: Array<Record<string, string>>) => [{ address: ips[0].address }, ips[1]],
      'address "10.10.0.5/24" (ipam.addresses[0]) of interface "eth0" has gateway null in prevResult.ips, not "10.10.0.1"',
    ],
  ])('fails with 140 when %s', async (_label, change, message) => {
    const prevResult = await added();
    const r = await run('CHECK', { ...conf('1.0.0'), prevResult: { ...prevResult, ips: change(prevResult.ips) } });
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ code: 140, msg: `static: ${message}` });
  });

  it('checks the addresses the runtime asked for when runtimeConfig.ips replaces ipam.addresses', async () => {
    const extra = { runtimeConfig: { ips: ['10.4.4.4/24'] } };
    const prevResult = (await run('ADD', conf('1.0.0', extra))).json;
    expect(prevResult.ips).toEqual([{ address: '10.4.4.4/24' }]);
    expect((await run('CHECK', { ...conf('1.0.0', extra), prevResult })).code).toBe(0);
    const r = await run('CHECK', { ...conf('1.0.0'), prevResult });
    expect(r.json).toMatchObject({ code: 140, msg: expect.stringContaining('"10.10.0.5/24" (ipam.addresses[0])') });
  });

  it('needs prevResult (code 7) and a config ADD accepts', async () => {
    expect((await run('CHECK', conf('1.0.0'))).json).toMatchObject({ code: 7, msg: 'static CHECK needs "prevResult", the result of the ADD being checked' });
    const r = await run('CHECK', { ...conf('1.0.0', { runtimeConfig: { ips: ['x'] } }), prevResult: await added() });
    expect(r.json).toMatchObject({ code: 7, msg: expect.stringContaining('"runtimeConfig.ips[0]"') });
  });
});

describe('static STATUS, GC and VERSION', () => {
  it('STATUS and GC succeed without output', async () => {
    for (const command of ['STATUS', 'GC']) {
      const r = await run(command, { ...conf('1.1.0'), 'cni.dev/valid-attachments': [] }, { CNI_CONTAINERID: '', CNI_NETNS: '', CNI_IFNAME: '' });
      expect(r.code, `${command}: ${r.stdout}`).toBe(0);
      expect(r.stdout).toBe('');
    }
  });

  it('VERSION lists the versions every plugin of the suite speaks', async () => {
    const r = await run('VERSION', '{"cniVersion":"0.4.0"}');
    expect(r.json).toEqual({ cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });
});
