import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_DIR, execPlugin, type PluginOutcome } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { UPLINK } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';

let dir: string;
let host: TestNetns;
let outside: TestNetns;
const pool = useNodeFixture('cnit-reapply-', (node) => ({ dir, host, outside } = node));

const NET = 'renet';
const confs = (prevResult?: object) => ({
  bridge: {
    type: 'bridge',
    bridge: 'cnire0',
    isGateway: true,
    isDefaultGateway: true,
    ipMasq: true,
    macspoofchk: true,
    ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.49.0.0/24' }], [{ subnet: 'fd49::/64' }]] },
    ...(prevResult ? { prevResult } : {}),
  },
  portmap: { type: 'portmap', runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] }, ...(prevResult ? { prevResult } : {}) },
  firewall: { type: 'firewall', ingressPolicy: 'same-bridge', ...(prevResult ? { prevResult } : {}) },
});
const env = () => ({ CNI_TS_STATE_DIR: join(dir, 'state') });
const invoke = (plugin: 'bridge' | 'portmap' | 'firewall', command: string, ctr: TestNetns, prevResult?: object) =>
  execPlugin(plugin, { command, containerId: `ctr-${ctr.name}`, netns: ctr.path, ifname: 'eth0', stdin: { cniVersion: '1.1.0', name: NET, ...confs(prevResult)[plugin] }, inNetns: host.name, env: env() });
const ok = (r: PluginOutcome) => expect(r.code, r.stdout + r.stderr).toBe(0);

function reapply() {
  const r = spawnSync('ip', ['netns', 'exec', host.name, join(BIN_DIR, 'cni-ts-reapply')], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env() } });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** The host's ruleset, table by table in name order (re-creating tables changes their order in the listing). */
const ruleset = () =>
  execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'list', 'ruleset'], { encoding: 'utf8' })
    .split(/^(?=table )/m)
    .sort()
    .join('');

describe('cni-ts-reapply', () => {
  it('after `nft flush ruleset`, CHECK reports the loss and one command brings every rule and the traffic back', async () => {
    const ctr = pool.make('c');
    const bridge = await invoke('bridge', 'ADD', ctr);
    ok(bridge);
    ok(await invoke('portmap', 'ADD', ctr, bridge.json));
    ok(await invoke('firewall', 'ADD', ctr, bridge.json));
    await serve(ctr, 'tcp', 80, 'web');
    await serve(outside, 'tcp', 7000, 'world');
    const works = () => [ask(outside, 'tcp', UPLINK.host4, 8080), ask(ctr, 'tcp', UPLINK.outside4, 7000)];
    expect(works()).toEqual([`web saw ${UPLINK.outside4}`, `world saw ${UPLINK.host4}`]);
    const before = ruleset();

    execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'flush', 'ruleset']);
    expect(works()).toEqual([undefined, undefined]);
    for (const plugin of ['bridge', 'portmap', 'firewall'] as const) {
      const check = await invoke(plugin, 'CHECK', ctr, bridge.json);
      expect(check.json?.code, `${plugin} CHECK after the flush: ${check.stdout}`).toBe(140);
    }

    const report = reapply();
    expect(report.installed).toEqual({ 'bridge ipMasq': 2, 'bridge macspoofchk': 1, portmap: expect.any(Number), firewall: 1 });
    expect(report.installed.portmap).toBeGreaterThan(0);
    expect(works()).toEqual([`web saw ${UPLINK.outside4}`, `world saw ${UPLINK.host4}`]);
    for (const plugin of ['bridge', 'portmap', 'firewall'] as const) ok(await invoke(plugin, 'CHECK', ctr, bridge.json));
    expect(ruleset()).toBe(before);

    // idempotent: a second run changes nothing
    reapply();
    expect(ruleset()).toBe(before);
  });

  it('re-applies nothing for attachments that were deleted', async () => {
    const ctr = pool.make('c');
    const bridge = await invoke('bridge', 'ADD', ctr);
    ok(bridge);
    ok(await invoke('portmap', 'ADD', ctr, bridge.json));
    ok(await invoke('portmap', 'DEL', ctr));
    ok(await invoke('bridge', 'DEL', ctr));
    execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'flush', 'ruleset']);
    expect(reapply().installed).toEqual({ 'bridge ipMasq': 0, 'bridge macspoofchk': 0, portmap: 0, firewall: 0 });
    expect(ruleset().trim()).toBe('');
  });
});
