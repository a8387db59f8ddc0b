import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_DIR } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { addChain, inHost, invokeChainPlugin, ok, type ChainNode, type ChainPlugin } from '../helpers/podman-chain';

let node: ChainNode;
const pool = useNodeFixture('cnit-chk-', (fixture) => (node = fixture));
const NET = { name: 'chk', octet: 61 };

/**
 * CHECK must fail when anything the container's traffic depends on is gone: not only our set and
 * map elements, but the chains and rules that use them. Each case empties one chain (what a
 * careless `nft flush chain` or a half-applied ruleset does), expects the plugin that depends on it
 * to fail CHECK with 140 naming the chain, and cni-ts-reapply to heal it.
 */
const cases: Array<[string, ChainPlugin, string[]]> = [
  ['the CVE-2020-8558 guard (route_localnet stays on)', 'portmap', ['inet', 'cni_ts', 'localnet_guard']],
  ['the DNAT chain', 'portmap', ['inet', 'cni_ts', 'portmap_dnat']],
  ['the DNAT hook of the host itself', 'portmap', ['inet', 'cni_ts', 'portmap_output']],
  ["portmap's masquerade", 'portmap', ['inet', 'cni_ts', 'portmap_postrouting']],
  ["bridge's masquerade hook", 'bridge', ['inet', 'cni_ts', 'postrouting']],
  ["the subnet's masquerade chain", 'bridge', ['inet', 'cni_ts', 'masq4-10_61_0_0_24']],
  ['the MAC spoof check', 'bridge', ['bridge', 'cni_ts', 'prerouting']],
  ["the firewall's ingress policy", 'firewall', ['inet', 'cni_ts', 'firewall_forward']],
];

describe('CHECK verifies the chains and rules, not only the elements', () => {
  it.each(cases)('fails when %s is flushed, names it, and cni-ts-reapply heals it', async (_what, plugin, chain) => {
    const ctr: TestNetns = pool.make('c');
    const bridge = await addChain(node, NET, ctr, ['bridge', 'portmap', 'firewall']);
    for (const p of ['bridge', 'portmap', 'firewall'] as const) ok(await invokeChainPlugin(node, NET, p, 'CHECK', ctr, bridge.json));

    inHost(node, 'nft', 'flush', 'chain', ...chain);
    const check = await invokeChainPlugin(node, NET, plugin, 'CHECK', ctr, bridge.json);
    expect(check.json?.code, check.stdout).toBe(140);
    expect(check.json.msg).toContain(`chain ${chain.join(' ')}`);

    inHost(node, join(BIN_DIR, 'cni-ts-reapply'));
    ok(await invokeChainPlugin(node, NET, plugin, 'CHECK', ctr, bridge.json));
  });

  it('fails when a rule of a chain is changed, not only removed', async () => {
    const ctr = pool.make('c');
    const bridge = await addChain(node, NET, ctr, ['bridge', 'portmap']);
    inHost(node, 'nft', 'flush', 'chain', 'inet', 'cni_ts', 'localnet_guard');
    inHost(node, 'nft', 'add', 'rule', 'inet', 'cni_ts', 'localnet_guard', 'iifname', '!=', '"lo"', 'ip', 'daddr', '127.0.0.0/16', 'drop');
    const check = await invokeChainPlugin(node, NET, 'portmap', 'CHECK', ctr, bridge.json);
    expect(check.json?.code, check.stdout).toBe(140);
    expect(check.json.msg).toContain('localnet_guard does not hold the rules it should');
  });

  it('leaves no scratch table behind, and removes those of CHECKs killed before they could', async () => {
    // a dormant scratch table of a process that no longer exists (pid beyond pid_max)
    inHost(node, 'nft', 'add table inet cni_ts_check_99999999 { flags dormant ; }');
    const ctr = pool.make('c');
    const bridge = await addChain(node, NET, ctr, ['bridge', 'portmap', 'firewall']);
    for (const p of ['bridge', 'portmap', 'firewall'] as const) ok(await invokeChainPlugin(node, NET, p, 'CHECK', ctr, bridge.json));
    expect(inHost(node, 'nft', 'list', 'tables').trim().split('\n').sort()).toEqual(['table bridge cni_ts', 'table inet cni_ts', 'table ip filter', 'table ip6 filter']);
  });
});
