import { describe, expect, it, vi } from 'vitest';
import { CniError } from '../errors';
import type { CmdArgs, PluginVerbs } from './cmd-args';
import { fakeIO } from '../../test/helpers/fake-io';
import { runPlugin } from './run';

const about = { name: 'test', version: '0.0.1' };
const config = (extra: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: '1.0.0', name: 'net1', type: 'test', ...extra });
// the test's own namespace is a real one; CNI_NETNS_OVERRIDE lets skel accept it in unit tests
const baseEnv = { CNI_CONTAINERID: 'c1', CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', CNI_NETNS_OVERRIDE: '1' };

function verbs(overrides: Partial<PluginVerbs> = {}): PluginVerbs {
  return {
    add: vi.fn(async (cmd: CmdArgs) => ({ cniVersion: cmd.cniVersion, ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1' }] })),
    del: vi.fn(async () => undefined),
    check: vi.fn(async () => undefined),
    ...overrides,
  };
}

async function run(env: Record<string, string>, stdin: string | Error, v = verbs()) {
  const io = fakeIO(env, stdin);
  const code = await runPlugin(v, about, io);
  return { code, io, out: io.stdout ? JSON.parse(io.stdout) : undefined, verbs: v };
}

describe('runPlugin', () => {
  it('answers VERSION with the supported versions, echoing a supported cniVersion', async () => {
    const r = await run({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
    expect(r.code).toBe(0);
    expect(r.out).toEqual({ cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    expect((await run({ CNI_COMMAND: 'VERSION' }, '')).out.cniVersion).toBe('1.1.0');
  });

  it('prints the about text on stderr and nothing on stdout without CNI_COMMAND', async () => {
    const r = await run({}, '');
    expect(r.code).toBe(0);
    expect(r.io.stdout).toBe('');
    expect(r.io.stderr).toContain('CNI test plugin v0.0.1');
  });

  it('rejects an unknown verb with code 4', async () => {
    const r = await run({ ...baseEnv, CNI_COMMAND: 'FROB' }, config());
    expect(r.code).toBe(1);
    expect(r.out).toMatchObject({ code: 4, cniVersion: '1.1.0' });
    expect(r.out.msg).toContain('"FROB"');
  });

  it('names every missing environment variable (code 4)', async () => {
    const r = await run({ CNI_COMMAND: 'ADD', CNI_PATH: '/x' }, config());
    expect(r.out.code).toBe(4);
    expect(r.out.msg).toContain('CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME');
  });

  it('does not require CNI_NETNS on DEL', async () => {
    const { CNI_NETNS: _unused, ...env } = baseEnv;
    const r = await run({ ...env, CNI_COMMAND: 'DEL' }, config());
    expect(r.code).toBe(0);
    expect(r.verbs.del).toHaveBeenCalledOnce();
    expect(r.io.stdout).toBe('');
  });

  it('reports garbage JSON as a decode error (code 6) with the config version unknown', async () => {
    const r = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, '{"cniVers');
    expect(r.out).toMatchObject({ code: 6, cniVersion: '1.1.0' });
  });

  it('reports deeply nested JSON as a decode error, not a crash', async () => {
    // JSON.parse takes this; the depth check refuses it (before, only "must be a JSON object" did)
    const r = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, '['.repeat(200_000) + ']'.repeat(200_000));
    expect(r.out.code).toBe(6);
    expect(r.out.msg).toContain('200000 levels deep');
  });

  it('refuses a deep unknown field under prevResult (code 6) before the verb runs: a chained verb echoing it could not print its result', async () => {
    // what a chained plugin does: its result is prevResult, unknown interface fields kept
    const echo = verbs({ add: vi.fn(async (cmd: CmdArgs) => cmd.prevResult!) });
    const prevResult = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', x: 0 }], ips: [{ address: '10.0.0.2/24', interface: 0 }] };
    const stdin = config({ prevResult }).replace('"x":0', `"x":${'['.repeat(5000)}${']'.repeat(5000)}`);
    const r = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, stdin, echo);
    expect(r.out).toMatchObject({ code: 6, cniVersion: '1.1.0' });
    expect(r.out.msg).toContain('5004 levels deep (at "prevResult.interfaces[0].x[0][0][0][0]…"); the limit is 64');
    expect(echo.add).not.toHaveBeenCalled();
    // the same at a depth JSON.stringify can print: the field goes through
    const shallow = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, config({ prevResult }), echo);
    expect(shallow.out.interfaces).toEqual([{ name: 'eth0', x: 0 }]);
  });

  it('accepts 64 levels of arrays and objects and refuses 65, however deep JSON.parse went', async () => {
    // the config object is level 1, so "deep" holding n nested arrays makes n + 1
    const nested = (arrays: number) => config({ deep: 0 }).replace('"deep":0', `"deep":${'['.repeat(arrays)}${']'.repeat(arrays)}`);
    expect((await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, nested(63))).code).toBe(0);
    const over = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, nested(64));
    expect(over.out.code).toBe(6);
    expect(over.out.msg).toContain('65 levels deep (at "deep[0][0][0][0][0][0][0]…")');
    const huge = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, nested(1_000_000));
    expect(huge.out.code).toBe(6);
    expect(huge.out.msg).toContain('1000001 levels deep');
    expect(huge.verbs.add).not.toHaveBeenCalled();
  });

  it('lets every verb through with a real config (libcni DEL input: runtimeConfig, args, prevResult with routes and dns)', async () => {
    const prevResult = {
      cniVersion: '1.1.0',
      interfaces: [
        { name: 'cni0', mac: '02:00:00:00:00:01' },
        { name: 'eth0', sandbox: '/run/netns/x', mac: '02:00:00:00:00:02' },
      ],
      ips: [{ address: '10.88.0.2/16', gateway: '10.88.0.1', interface: 1 }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.88.0.1' }],
      dns: { nameservers: ['10.88.0.1'], search: ['svc.local'], options: ['ndots:5'] },
    };
    const real = config({
      cniVersion: '1.1.0',
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }]], routes: [{ dst: '0.0.0.0/0' }] },
      runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], ipRanges: [[{ subnet: '10.88.0.0/16' }]] },
      args: { cni: { labels: [{ key: 'app', value: 'web' }] } },
      prevResult,
    });
    for (const command of ['ADD', 'DEL', 'CHECK', 'STATUS']) expect((await run({ ...baseEnv, CNI_COMMAND: command }, real)).code, command).toBe(0);
    const gc = JSON.stringify({ ...JSON.parse(real), 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }] });
    expect((await run({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, gc)).code).toBe(0);
  });

  it('lets an over-deep DEL through without the deep field: the runtime sends DEL after the ADD that was refused for it', async () => {
    const r = await run({ ...baseEnv, CNI_COMMAND: 'DEL' }, config({ deep: 0 }).replace('"deep":0', `"deep":${'{"a":'.repeat(100)}1${'}'.repeat(100)}`));
    expect(r.code).toBe(0);
    const cmd = vi.mocked(r.verbs.del).mock.calls[0][0];
    expect(cmd.config).not.toHaveProperty('deep');
    expect(cmd.config.name).toBeDefined();
  });

  it('reports a stdin read failure as code 5', async () => {
    const r = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, new Error('EIO'));
    expect(r.out.code).toBe(5);
  });

  it('rejects an unsupported cniVersion with code 1 and echoes it in the error', async () => {
    const r = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, config({ cniVersion: '9.9.9' }));
    expect(r.out).toMatchObject({ code: 1, cniVersion: '9.9.9' });
    expect(r.out.msg).toContain('"9.9.9"');
  });

  it.each(['0.1.0', '0.2.0'])('refuses cniVersion %s (code 1) saying to write 0.3.1 or later', async (version) => {
    const r = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, config({ cniVersion: version }));
    expect(r.out).toMatchObject({ code: 1, cniVersion: version, msg: expect.stringContaining('set "cniVersion" to "0.3.1" or later') });
  });

  it('gates CHECK to 0.4.0+ and STATUS/GC to 1.1.0+', async () => {
    expect((await run({ ...baseEnv, CNI_COMMAND: 'CHECK' }, config({ cniVersion: '0.3.1' }))).out.code).toBe(1);
    expect((await run({ ...baseEnv, CNI_COMMAND: 'STATUS' }, config({ cniVersion: '1.0.0' }))).out.code).toBe(1);
    expect((await run({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, config({ cniVersion: '1.0.0' }))).out.code).toBe(1);
    expect((await run({ CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }, config({ cniVersion: '1.1.0' }))).code).toBe(0);
  });

  it('names the field of a wrongly typed config key (code 7)', async () => {
    const r = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, config({ name: 42 }));
    expect(r.out.code).toBe(7);
    expect(r.out.msg).toContain('field "name"');
  });

  it('rejects path tricks in the network name', async () => {
    for (const name of ['../../x', 'a/b', '.hidden', '']) {
      const r = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, config({ name }));
      expect(r.out.code, name).toBe(7);
    }
  });

  it('validates the interface name and container id', async () => {
    for (const ifname of ['a/b', '.', '..', 'x'.repeat(16), 'a b', 'a:b']) {
      expect((await run({ ...baseEnv, CNI_IFNAME: ifname, CNI_COMMAND: 'ADD' }, config())).out.code, ifname).toBe(4);
    }
    expect((await run({ ...baseEnv, CNI_CONTAINERID: 'a/../b', CNI_COMMAND: 'ADD' }, config())).out.code).toBe(4);
  });

  it('rejects a netns path that does not exist (code 8) before calling the verb', async () => {
    const r = await run({ ...baseEnv, CNI_NETNS: '/run/netns/does-not-exist-xyz', CNI_COMMAND: 'ADD' }, config());
    expect(r.out.code).toBe(8);
    expect(r.verbs.add).not.toHaveBeenCalled();
  });

  it('rejects a path that is not a network namespace (code 8)', async () => {
    for (const netns of ['/etc/hostname', '/proc/self/ns/mnt', 'relative/path']) {
      const r = await run({ ...baseEnv, CNI_NETNS: netns, CNI_COMMAND: 'ADD' }, config());
      expect(r.out.code, netns).toBe(8);
    }
  });

  it("rejects the plugin's own namespace unless CNI_NETNS_OVERRIDE is set", async () => {
    const r = await run({ ...baseEnv, CNI_NETNS: '/proc/self/ns/net', CNI_NETNS_OVERRIDE: '', CNI_COMMAND: 'ADD' }, config());
    expect(r.out.code).toBe(8);
    expect(r.out.msg).toContain("plugin's own network namespace");
  });

  it('prints the ADD result in the config version (0.4.0 adds ips[].version)', async () => {
    const r = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, config({ cniVersion: '0.4.0' }));
    expect(r.out).toEqual({ cniVersion: '0.4.0', ips: [{ version: '4', address: '10.0.0.2/24', gateway: '10.0.0.1' }] });
  });

  it('parses prevResult of a legacy version into the internal shape', async () => {
    const v = verbs();
    const prevResult = { cniVersion: '0.4.0', ips: [{ version: '6', address: 'fd00::2/64', interface: 0 }] };
    await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, config({ cniVersion: '0.4.0', prevResult }), v);
    const cmd = vi.mocked(v.add).mock.calls[0][0];
    expect(cmd.prevResult?.ips).toEqual([{ address: 'fd00::2/64', interface: 0 }]);
  });

  it('rejects a malformed prevResult naming the field', async () => {
    const r = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, config({ prevResult: { ips: [{ address: 'nonsense' }] } }));
    expect(r.out.code).toBe(6);
    expect(r.out.msg).toContain('prevResult.ips[0].address');
  });

  it('serialises a CniError from a verb as-is', async () => {
    const v = verbs({ add: async () => Promise.reject(new CniError(101, 'nope', 'more')) });
    const r = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, config(), v);
    expect(r.out).toEqual({ cniVersion: '1.0.0', code: 101, msg: 'nope', details: 'more' });
  });

  it('reports an unexpected exception as 999 with the stack on stderr only', async () => {
    const v = verbs({ add: async () => Promise.reject(new TypeError('boom')) });
    const r = await run({ ...baseEnv, CNI_COMMAND: 'ADD' }, config(), v);
    expect(r.out.code).toBe(999);
    expect(r.io.stdout).not.toContain('at ');
    expect(r.io.stderr).toContain('TypeError: boom');
  });

  it('passes GC the valid attachments (either spelling of the key)', async () => {
    const gc = vi.fn(async () => undefined);
    const list = [{ containerID: 'a', ifname: 'eth0' }];
    await run({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, config({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': list }), verbs({ gc }));
    await run({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, config({ cniVersion: '1.1.0', 'cni.dev/attachments': list }), verbs({ gc }));
    expect(gc.mock.calls.map((c) => (c as unknown as [CmdArgs])[0].validAttachments)).toEqual([list, list]);
  });
});
