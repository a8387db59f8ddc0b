import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_DIR } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture, type NodeFixture } from '../helpers/node-fixture';
import { addChain, inHost, invokeChainPlugin, NFT_ONLY, ok } from '../helpers/podman-chain';
import { UPLINK } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';

let node: NodeFixture;
const pool = useNodeFixture('cnit-reapply-', (fixture) => (node = fixture));

const NET = { name: 'renet', octet: 49 };
// the ingress policy in our table only: no iptables rules, so the ruleset can be compared whole

const invoke = (plugin: 'bridge' | 'portmap' | 'firewall', command: string, ctr: TestNetns, prevResult?: object) =>
  invokeChainPlugin(node, NET, plugin, command, ctr, prevResult, NFT_ONLY[plugin]);

const reapply = () => JSON.parse(inHost(node, join(BIN_DIR, 'cni-ts-reapply')));

/** The host's ruleset, table by table in name order (re-creating tables changes their order in the listing). */
const ruleset = () =>
  execFileSync('ip', ['netns', 'exec', node.host.name, 'nft', 'list', 'ruleset'], { encoding: 'utf8' })
    .split(/^(?=table )/m)
    .sort()
    .join('');

describe('cni-ts-reapply', () => {
  it('after `nft flush ruleset`, CHECK reports the loss and one command brings every rule and the traffic back', async () => {
    const ctr = pool.make('c');
    const bridge = await addChain(node, NET, ctr, ['bridge', 'portmap', 'firewall'], NFT_ONLY);
    await serve(ctr, 'tcp', 80, 'web');
    await serve(node.outside, 'tcp', 7000, 'world');
    const works = () => [ask(node.outside, 'tcp', UPLINK.host4, 8080), ask(ctr, 'tcp', UPLINK.outside4, 7000)];
    expect(works()).toEqual([`web saw ${UPLINK.outside4}`, `world saw ${UPLINK.host4}`]);
    const before = ruleset();

    execFileSync('ip', ['netns', 'exec', node.host.name, 'nft', 'flush', 'ruleset']);
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
    execFileSync('ip', ['netns', 'exec', node.host.name, 'nft', 'flush', 'ruleset']);
    expect(reapply().installed).toEqual({ 'bridge ipMasq': 0, 'bridge macspoofchk': 0, portmap: 0, firewall: 0 });
    expect(ruleset().trim()).toBe('');
  });
});
