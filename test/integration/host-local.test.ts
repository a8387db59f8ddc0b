import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { delegate } from '../../lib/invoke/delegate';
import { parseCniArgs, type CmdArgs } from '../../lib/skel';
import { BIN_DIR, execGc, execPlugin, type PluginInvocation } from '../helpers/exec-plugin';
import { useDirFixture } from '../helpers/dir-fixture';
import type { TestNetns } from '../helpers/netns';
import { reservedAddresses } from '../helpers/host-local-store';

const REFERENCE = '/usr/lib/cni/host-local';
let dataDir: string;
let ns: TestNetns;
const pool = useDirFixture('cnit-hl-', 'hl', (dir, made) => ((dataDir = dir), (ns = made)));

function conf(ipam: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.0.0',
    name: 'hlnet',
    type: 'bridge',
    ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.77.0.0/24' }], [{ subnet: 'fd77::/64' }]], ...ipam },
    ...extra,
  };
}

const run = (command: string, stdin: object, inv: PluginInvocation = {}, plugin = 'host-local') =>
  execPlugin(plugin, { command, containerId: 'ctr1', netns: ns.path, ifname: 'eth0', stdin, ...inv });

const storeDir = () => join(dataDir, 'hlnet');
const ipFiles = () => reservedAddresses(dataDir, 'hlnet');

describe('host-local ADD/CHECK/DEL', () => {
  it('allocates one address per range set and stores them in the reference layout', async () => {
    const r = await run('ADD', conf({ routes: [{ dst: '0.0.0.0/0' }] }));
    expect(r.code, r.stdout).toBe(0);
    expect(r.json).toEqual({
      cniVersion: '1.0.0',
      ips: [
        { address: '10.77.0.2/24', gateway: '10.77.0.1' },
        { address: 'fd77::2/64', gateway: 'fd77::1' },
      ],
      routes: [{ dst: '0.0.0.0/0' }],
    });
    expect(readFileSync(join(storeDir(), '10.77.0.2'), 'utf8')).toBe('ctr1\r\neth0');
    expect(readFileSync(join(storeDir(), 'fd77::2'), 'utf8')).toBe('ctr1\r\neth0');
    expect(readFileSync(join(storeDir(), 'last_reserved_ip.0'), 'utf8')).toBe('10.77.0.2');
    expect(readFileSync(join(storeDir(), 'last_reserved_ip.1'), 'utf8')).toBe('fd77::2');
    expect(existsSync(join(storeDir(), 'lock'))).toBe(true);
  });

  it('CHECK passes while reserved and fails after DEL; DEL is idempotent', async () => {
    await run('ADD', conf());
    expect((await run('CHECK', conf())).code).toBe(0);
    expect((await run('DEL', conf())).code).toBe(0);
    expect(ipFiles()).toEqual([]);
    const check = await run('CHECK', conf());
    expect(check.json).toMatchObject({ code: 103 });
    expect(check.json.msg).toContain('range set 0');
    expect((await run('DEL', conf())).code).toBe(0);
  });

  it('DEL of something never added succeeds and changes nothing', async () => {
    await run('ADD', conf(), { containerId: 'other' });
    const r = await run('DEL', conf(), { containerId: 'never-added' });
    expect(r.code).toBe(0);
    expect(ipFiles().sort()).toEqual(['10.77.0.2', 'fd77::2']);
  });

  it('DEL releases the addresses even when the netns is already gone', async () => {
    await run('ADD', conf());
    const path = ns.path;
    ns.destroy();
    const r = await run('DEL', conf(), { netns: path });
    expect(r.code, r.stdout).toBe(0);
    expect(ipFiles()).toEqual([]);
  });

  it('releases only the attachment named by container id + ifname', async () => {
    await run('ADD', conf(), { ifname: 'eth0' });
    await run('ADD', conf(), { ifname: 'eth1' });
    await run('DEL', conf(), { ifname: 'eth0' });
    expect(ipFiles().sort()).toEqual(['10.77.0.3', 'fd77::3']);
  });

  it('allocates round-robin after the last reserved address', async () => {
    const first = await run('ADD', conf(), { containerId: 'a' });
    await run('DEL', conf(), { containerId: 'a' });
    const second = await run('ADD', conf(), { containerId: 'b' });
    expect(first.json.ips[0].address).toBe('10.77.0.2/24');
    expect(second.json.ips[0].address).toBe('10.77.0.3/24');
  });

  it('honours a requested IP from the ips capability and from CNI_ARGS', async () => {
    const viaCap = await run('ADD', conf({}, { runtimeConfig: { ips: ['10.77.0.50/24'] } }), { containerId: 'a' });
    expect(viaCap.json.ips.map((i: { address: string }) => i.address)).toEqual(['10.77.0.50/24', 'fd77::2/64']);
    const viaArgs = await run('ADD', conf(), { containerId: 'b', cniArgs: 'IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.77.0.60,fd77::60' });
    expect(viaArgs.json.ips.map((i: { address: string }) => i.address)).toEqual(['10.77.0.60/24', 'fd77::60/64']);
    const taken = await run('ADD', conf(), { containerId: 'c', cniArgs: 'IP=10.77.0.60' });
    expect(taken.json).toMatchObject({ code: 101 });
    expect(taken.json.msg).toContain('already allocated to container "b"');
  });

  it('reads resolvConf into the result dns', async () => {
    const resolv = join(dataDir, 'resolv.conf');
    writeFileSync(resolv, '# comment\nnameserver 10.77.0.53\nsearch a.example b.example\noptions ndots:2\ndomain example\n');
    const r = await run('ADD', conf({ resolvConf: resolv }));
    expect(r.json.dns).toEqual({ nameservers: ['10.77.0.53'], domain: 'example', search: ['a.example', 'b.example'], options: ['ndots:2'] });
  });
});

describe('host-local bad input leaves nothing behind', () => {
  it.each([
    ['an invalid CIDR', { ranges: [[{ subnet: '10.77.0.0/33' }]] }, 'ipam.ranges[0][0].subnet'],
    ['rangeStart outside the subnet', { ranges: [[{ subnet: '10.77.0.0/24', rangeStart: '10.78.0.5' }]] }, 'ipam.ranges[0][0].rangeStart'],
    ['a subnet with host bits', { ranges: [[{ subnet: '10.77.0.9/24' }]] }, 'ipam.ranges[0][0].subnet'],
    ['no ranges', { ranges: undefined }, 'ipam.ranges'],
    ['a wrongly typed field', { routes: 'default' }, 'ipam.routes'],
  ])('rejects %s with code 7 naming the field', async (_label, ipam, field) => {
    const r = await run('ADD', conf(ipam));
    expect(r.code).toBe(1);
    expect(r.json.code).toBe(7);
    expect(r.json.msg).toContain(`"${field}`);
    expect(ipFiles()).toEqual([]);
  });

  it('reports an exhausted range (code 100) and keeps the other range set unreserved', async () => {
    const small = { ranges: [[{ subnet: 'fd77::/64' }], [{ subnet: '10.77.0.0/29' }]] }; // 5 usable v4
    for (let i = 0; i < 5; i++) expect((await run('ADD', conf(small), { containerId: `c${i}` })).code).toBe(0);
    const r = await run('ADD', conf(small), { containerId: 'late' });
    expect(r.json).toMatchObject({ code: 100 });
    expect(r.json.msg).toContain('no IP addresses available in range set: 10.77.0.1-10.77.0.6');
    const owners = ipFiles().map((f) => readFileSync(join(storeDir(), f), 'utf8'));
    expect(owners.some((o) => o.startsWith('late'))).toBe(false);
    expect(owners).toHaveLength(10);
  });
});

describe('host-local under concurrency', () => {
  it('20 concurrent ADDs on one network get 20 distinct addresses, none lost', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `par${i}`);
    const results = await Promise.all(ids.map((containerId) => run('ADD', conf(), { containerId })));
    for (const r of results) expect(r.code, r.stdout + r.stderr).toBe(0);
    const v4 = results.map((r) => r.json.ips[0].address);
    expect(new Set(v4).size).toBe(20);
    expect(ipFiles()).toHaveLength(40);
    for (const [i, r] of results.entries()) {
      const file = r.json.ips[0].address.split('/')[0];
      expect(readFileSync(join(storeDir(), file), 'utf8')).toBe(`${ids[i]}\r\neth0`);
    }
    const dels = await Promise.all(ids.map((containerId) => run('DEL', conf(), { containerId })));
    expect(dels.every((d) => d.code === 0)).toBe(true);
    expect(ipFiles()).toEqual([]);
  });
});

describe('host-local STATUS and GC (CNI 1.1)', () => {
  const v11 = (ipam: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ ...conf(ipam, extra), cniVersion: '1.1.0' });

  it('GC releases the attachments not in cni.dev/valid-attachments', async () => {
    for (const containerId of ['keep', 'drop']) await run('ADD', v11(), { containerId });
    const gc = await execGc('host-local', v11(), ['keep']);
    expect(gc.code, gc.stdout).toBe(0);
    const owners = ipFiles().map((f) => readFileSync(join(storeDir(), f), 'utf8'));
    expect(owners).toEqual(['keep\r\neth0', 'keep\r\neth0']);
  });

  it('STATUS succeeds with room and answers 50 when a range set is full', async () => {
    const small = { ranges: [[{ subnet: '10.77.0.0/30' }]] }; // one usable address: .2
    expect((await execPlugin('host-local', { command: 'STATUS', stdin: v11(small) })).code).toBe(0);
    await run('ADD', v11(small));
    const full = await execPlugin('host-local', { command: 'STATUS', stdin: v11(small) });
    expect(full.json).toMatchObject({ code: 50 });
    expect(full.json.msg).toContain('is full');
  });
});

describe('host-local interoperates with the reference plugin', () => {
  const haveReference = existsSync(REFERENCE);

  it.runIf(haveReference)('the reference plugin releases what we reserved, and we skip what it reserved', async () => {
    const ours = await run('ADD', conf(), { containerId: 'ours' });
    const theirs = await run('ADD', conf(), { containerId: 'theirs' }, REFERENCE);
    expect(theirs.code, theirs.stdout).toBe(0);
    // the reference continued round-robin from our last_reserved_ip and did not reuse our address
    expect(theirs.json.ips[0].address).toBe('10.77.0.3/24');
    expect(ours.json.ips[0].address).toBe('10.77.0.2/24');
    const next = await run('ADD', conf(), { containerId: 'ours2' });
    expect(next.json.ips[0].address).toBe('10.77.0.4/24');
    expect((await run('DEL', conf(), { containerId: 'ours' }, REFERENCE)).code).toBe(0);
    expect((await run('DEL', conf(), { containerId: 'theirs' })).code).toBe(0);
    expect(ipFiles().sort()).toEqual(['10.77.0.4', 'fd77::4']);
  });
});

describe('host-local as a delegate', () => {
  it('is found through CNI_PATH and run with the complete config by another plugin', async () => {
    const config = conf();
    const cmd: CmdArgs = {
      command: 'ADD',
      containerId: 'deleg',
      netns: ns.path,
      ifname: 'eth0',
      args: parseCniArgs(''),
      path: ['/nonexistent', BIN_DIR],
      stdin: Buffer.from(JSON.stringify(config)),
      config,
      cniVersion: '1.0.0',
      env: { PATH: process.env.PATH, CNI_CONTAINERID: 'deleg', CNI_NETNS: ns.path, CNI_IFNAME: 'eth0', CNI_PATH: `/nonexistent:${BIN_DIR}` },
    };
    const result = await delegate('host-local', 'ADD', cmd);
    expect(result?.ips?.map((i) => i.address)).toEqual(['10.77.0.2/24', 'fd77::2/64']);
    await delegate('host-local', 'DEL', { ...cmd, command: 'DEL', env: { ...cmd.env } });
    expect(ipFiles()).toEqual([]);
    await expect(delegate('no-such-ipam', 'ADD', cmd)).rejects.toMatchObject({ code: 7 });
  });
});

afterAll(() => pool.destroyAll());
