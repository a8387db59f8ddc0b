import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execPlugin } from '../helpers/exec-plugin';
import { netnsPool } from '../helpers/netns';
import { requireRoot } from '../helpers/root';

const pool = netnsPool();
beforeAll(requireRoot);
afterEach(() => pool.destroyAll());

const conf = (cniVersion = '1.0.0') => ({ cniVersion, name: 'lo-net', type: 'loopback' });
const run = (command: string, netns: string, stdin: object = conf()) => execPlugin('loopback', { command, containerId: 'ctr1', netns, ifname: 'lo', stdin });
type Link = { ifname: string; flags: string[] };
const loFlags = (ns: ReturnType<typeof pool.make>) => ns.ipJson<Link[]>('link', 'show', 'lo')[0].flags;

describe('loopback', () => {
  it('ADD brings lo up and reports it with its addresses', async () => {
    const ns = pool.make('lo');
    expect(loFlags(ns)).not.toContain('UP');
    const r = await run('ADD', ns.path);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(loFlags(ns)).toContain('UP');
    expect(r.json).toEqual({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'lo', mac: '00:00:00:00:00:00', sandbox: ns.path }],
      ips: [
        { address: '127.0.0.1/8', interface: 0 },
        { address: '::1/128', interface: 0 },
      ],
    });
    expect(ns.exec('ping', ['-c1', '-W1', '127.0.0.1'])).toContain('1 received');
  });

  it('returns the same result shape as the reference plugin (0.4.0 adds ips[].version)', async () => {
    const ns = pool.make('lo');
    const r = await run('ADD', ns.path, conf('0.4.0'));
    expect(r.json.ips.map((ip: { version: string }) => ip.version)).toEqual(['4', '6']);
  });

  it('passes a prevResult through untouched', async () => {
    const ns = pool.make('lo');
    const prevResult = { cniVersion: '1.0.0', ips: [{ address: '10.9.0.5/24', gateway: '10.9.0.1' }] };
    const r = await run('ADD', ns.path, { ...conf(), prevResult });
    expect(r.json).toEqual(prevResult);
  });

  it('CHECK passes when lo is up and fails after DEL brings it down', async () => {
    const ns = pool.make('lo');
    await run('ADD', ns.path);
    expect((await run('CHECK', ns.path)).code).toBe(0);
    expect((await run('DEL', ns.path)).code).toBe(0);
    expect(loFlags(ns)).not.toContain('UP');
    const check = await run('CHECK', ns.path);
    expect(check.code).toBe(1);
    // the same code every plugin's CHECK uses for "something ADD set up is gone"
    expect(check.json).toMatchObject({ code: 140, msg: expect.stringContaining('is down') });
  });

  it('DEL succeeds twice, with the netns gone, and with no netns at all', async () => {
    const ns = pool.make('lo');
    await run('ADD', ns.path);
    expect((await run('DEL', ns.path)).code).toBe(0);
    expect((await run('DEL', ns.path)).code).toBe(0);
    const path = ns.path;
    ns.destroy();
    expect((await run('DEL', path)).code).toBe(0);
    expect((await execPlugin('loopback', { command: 'DEL', containerId: 'ctr1', ifname: 'lo', stdin: conf() })).code).toBe(0);
  });
});
