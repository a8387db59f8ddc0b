import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execPlugin } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';

/** CNI 1.1 STATUS of every plugin: ready on a working host, 50 with the reason when it cannot serve ADD. */
let dir: string;
let host: TestNetns;
useNodeFixture('cnit-status-', (node) => ({ dir, host } = node));

const ipam = () => ({ type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.48.0.0/24' }]] });
const confs = (): Record<string, object> => ({
  bridge: { type: 'bridge', bridge: 'cnist0', ipam: ipam() },
  'host-local': { type: 'host-local', ipam: ipam() },
  loopback: { type: 'loopback' },
  portmap: { type: 'portmap' },
  firewall: { type: 'firewall', ingressPolicy: 'same-bridge' },
  // STATUS has no CNI_IFNAME: an IFNAME key must not make it fail
  tuning: { type: 'tuning', sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '2' }, dataDir: join(dir, 'tuning') },
});
const status = (plugin: string, conf: object, env: Record<string, string> = {}) =>
  execPlugin(plugin, { command: 'STATUS', stdin: { cniVersion: '1.1.0', name: 'stnet', ...conf }, inNetns: host.name, env: { CNI_TS_STATE_DIR: join(dir, 'state'), ...env } });

describe('STATUS', () => {
  it.each(['bridge', 'host-local', 'loopback', 'portmap', 'firewall', 'tuning'])('%s is ready on a working host', async (plugin) => {
    const r = await status(plugin, confs()[plugin]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it.each([
    ['host-local', () => ({ type: 'host-local', ipam: { ...ipam(), dataDir: '/proc/version/ipam' } }), 'data directory'],
    ['tuning', () => ({ type: 'tuning', dataDir: '/proc/version/tuning' }), 'tuning dataDir'],
  ] as const)('%s answers 50 when its directory cannot be written', async (plugin, conf, what) => {
    const r = await status(plugin, conf());
    expect(r.json).toMatchObject({ code: 50, msg: expect.stringContaining(what) });
  });

  it.each(['portmap', 'firewall'])('%s answers 50 when nftables cannot be used', async (plugin) => {
    // no libnftables (the binary fallback forced) and a PATH with node and ip but no nft
    const path = join(dir, 'path-without-nft');
    mkdirSync(path);
    symlinkSync(process.execPath, join(path, 'node'));
    symlinkSync(execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim(), join(path, 'ip'));
    const r = await status(plugin, confs()[plugin], { CNI_TS_NFT: 'binary', PATH: path });
    expect(r.json).toMatchObject({ code: 50, msg: expect.stringContaining('nftables') });
  });

  it("bridge passes on its IPAM plugin's answer (a full range)", async () => {
    const full = { type: 'bridge', bridge: 'cnist0', ipam: { ...ipam(), ranges: [[{ subnet: '10.48.0.0/30' }]] } };
    const add = await execPlugin('host-local', { command: 'ADD', containerId: 'c1', netns: host.path, ifname: 'eth0', stdin: { cniVersion: '1.1.0', name: 'stnet', ...full } });
    expect(add.code, add.stdout).toBe(0);
    const r = await status('bridge', full);
    expect(r.json).toMatchObject({ code: 50, msg: expect.stringContaining('full') });
  });
});
