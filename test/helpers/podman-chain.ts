import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { execPlugin, type PluginOutcome } from './exec-plugin';
import type { TestNetns } from './netns';
import { baseEnv } from './base-env';

export type ChainPlugin = 'bridge' | 'portmap' | 'firewall' | 'tuning';

/** Where a chain's state lives and which host namespace it runs in. */
export interface ChainNode {
  dir: string;
  host: TestNetns;
}

/** A network of the chain: its name, the second octet of its subnets, and the container's interface on it (default eth0). */
export interface ChainNet {
  name: string;
  octet: number;
  ifname?: string;
}

/**
 * The conflist Podman writes (bridge with host-local and masquerade, portmap, firewall, tuning),
 * with this suite's stronger options (macspoofchk, an ingress policy), one plugin config at a time.
 * `net` picks the network's name, bridge and subnets so that several tests never collide.
 */
export function chainConfs(node: ChainNode, net: ChainNet, prevResult?: object): Record<ChainPlugin, object> {
  const prev = prevResult ? { prevResult } : {};
  return {
    bridge: {
      type: 'bridge',
      bridge: `cni${net.name}0`.slice(0, 15),
      isGateway: true,
      isDefaultGateway: true,
      ipMasq: true,
      // as Podman writes it; with br_netfilter a container reaching its own published port needs it
      hairpinMode: true,
      macspoofchk: true,
      ipam: { type: 'host-local', dataDir: join(node.dir, 'ipam'), ranges: [[{ subnet: `10.${net.octet}.0.0/24` }], [{ subnet: `fd${net.octet}::/64` }]] },
      ...prev,
    },
    portmap: { type: 'portmap', capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] }, ...prev },
    firewall: { type: 'firewall', backend: 'iptables', ingressPolicy: 'same-bridge', ...prev },
    tuning: { type: 'tuning', mtu: 1400, dataDir: join(node.dir, 'tuning'), ...prev },
  };
}

/** The firewall with its ingress policy in our table only, no iptables rules: the whole ruleset can then be compared. */
export const NFT_ONLY: Partial<Record<ChainPlugin, object>> = { firewall: { backend: '' } };

export const chainEnv = (node: ChainNode) => ({ CNI_TS_STATE_DIR: join(node.dir, 'state') });

/** Runs one plugin of the chain for `ctr` as a runtime would; `override` replaces or adds config fields. */
export function invokeChainPlugin(
  node: ChainNode,
  net: ChainNet,
  plugin: ChainPlugin,
  command: string,
  ctr: TestNetns,
  prevResult?: object,
  override: object = {},
): Promise<PluginOutcome> {
  const stdin = { cniVersion: '1.1.0', name: net.name, ...chainConfs(node, net, prevResult)[plugin], ...override };
  return execPlugin(plugin, { command, containerId: `ctr-${ctr.name}`, netns: ctr.path, ifname: net.ifname ?? 'eth0', stdin, inNetns: node.host.name, env: chainEnv(node) });
}

export const ok = (r: PluginOutcome) => expect(r.code, r.stdout + r.stderr).toBe(0);

/** ADD of every plugin of the chain, each with the previous result; returns bridge's result. */
export async function addChain(
  node: ChainNode,
  net: ChainNet,
  ctr: TestNetns,
  plugins: ChainPlugin[] = ['bridge', 'portmap', 'firewall', 'tuning'],
  overrides: Partial<Record<ChainPlugin, object>> = {},
): Promise<PluginOutcome> {
  let prev: PluginOutcome | undefined;
  for (const plugin of plugins) {
    const r = await invokeChainPlugin(node, net, plugin, 'ADD', ctr, prev?.json, overrides[plugin]);
    ok(r);
    prev ??= r;
  }
  return prev!;
}

/** DEL of every plugin of the chain in reverse order, as a runtime does; each must succeed. */
export async function delChain(node: ChainNode, net: ChainNet, ctr: TestNetns, plugins: ChainPlugin[] = ['bridge', 'portmap', 'firewall', 'tuning']): Promise<void> {
  for (const plugin of [...plugins].reverse()) ok(await invokeChainPlugin(node, net, plugin, 'DEL', ctr));
}

/** A command's stdout inside the host namespace (with the chain's state directory). */
export const inHost = (node: ChainNode, command: string, ...args: string[]): string =>
  execFileSync('ip', ['netns', 'exec', node.host.name, command, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...baseEnv(), ...chainEnv(node) },
  });

/** The suite's tables in the host namespace (empty when there are none; any other nft failure throws). */
export function suiteTables(node: ChainNode): string {
  const tables = inHost(node, 'nft', 'list', 'tables');
  return ['inet', 'bridge']
    .filter((family) => tables.includes(`table ${family} cni_ts\n`))
    .map((family) => inHost(node, 'nft', 'list', 'table', family, 'cni_ts'))
    .join('');
}

/** The elements of every set and map in the suite's tables, as "family set element" lines. */
export function suiteElements(node: ChainNode): string[] {
  const out: string[] = [];
  const tables = inHost(node, 'nft', 'list', 'tables');
  for (const family of ['inet', 'bridge'].filter((f) => tables.includes(`table ${f} cni_ts\n`))) {
    const listing: { nftables: Array<{ set?: { name: string; elem?: unknown[] }; map?: { name: string; elem?: unknown[] } }> } = JSON.parse(
      inHost(node, 'nft', '-j', 'list', 'table', family, 'cni_ts'),
    );
    for (const x of listing.nftables) {
      const s = x.set ?? x.map;
      for (const e of s?.elem ?? []) out.push(`${family} ${s!.name} ${JSON.stringify(e)}`);
    }
  }
  return out;
}
