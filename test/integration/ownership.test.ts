import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_DIR, execGc } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture, type NodeFixture } from '../helpers/node-fixture';
import { addChain, chainConfs, chainEnv, inHost, invokeChainPlugin, ok, suiteTables } from '../helpers/podman-chain';
import { UPLINK } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';

let node: NodeFixture;
const pool = useNodeFixture('cnit-own-', (fixture) => (node = fixture));
const NET = { name: 'own', octet: 65 };
const SUBNET_CHAINS = ['masq4-10_65_0_0_24', 'masq6-fd65___64'];
const subnetChains = () => SUBNET_CHAINS.filter((c) => suiteTables(node).includes(`chain ${c} {`));

describe("a subnet's masquerade chain goes with its last container", () => {
  it('DEL: stays while a container of the subnet is left, goes with the last one', async () => {
    const [a, b] = [pool.make('a'), pool.make('b')];
    await addChain(node, NET, a, ['bridge']);
    await addChain(node, NET, b, ['bridge']);
    expect(subnetChains()).toEqual(SUBNET_CHAINS);
    ok(await invokeChainPlugin(node, NET, 'bridge', 'DEL', a));
    expect(subnetChains()).toEqual(SUBNET_CHAINS);
    ok(await invokeChainPlugin(node, NET, 'bridge', 'DEL', b));
    expect(subnetChains()).toEqual([]);
  });

  it('GC and cni-ts-reapply agree: a collected subnet has no chain, and re-applying does not bring it back', async () => {
    const a = pool.make('a');
    await addChain(node, NET, a, ['bridge']);
    ok(await execGc('bridge', { name: NET.name, ...chainConfs(node, NET).bridge }, [], { inNetns: node.host.name, env: chainEnv(node) }));
    expect(subnetChains()).toEqual([]);
    inHost(node, join(BIN_DIR, 'cni-ts-reapply'));
    expect(subnetChains()).toEqual([]);
  });

  it('16 concurrent ADDs then 16 concurrent DELs leave no subnet chain', async () => {
    const ctrs = Array.from({ length: 16 }, () => pool.make('c'));
    await Promise.all(ctrs.map((c) => addChain(node, NET, c, ['bridge'])));
    expect(subnetChains()).toEqual(SUBNET_CHAINS);
    await Promise.all(ctrs.map(async (c) => ok(await invokeChainPlugin(node, NET, 'bridge', 'DEL', c))));
    expect(subnetChains()).toEqual([]);
  });
});

const mapping = (hostPort: number, hostIP?: string) => ({ runtimeConfig: { portMappings: [{ hostPort, containerPort: 80, protocol: 'tcp', ...(hostIP ? { hostIP } : {}) }] } });

async function withPort(ctr: TestNetns, hostPort: number, hostIP?: string) {
  const bridge = await addChain(node, NET, ctr, ['bridge']);
  await serve(ctr, 'tcp', 80, ctr.name.split('-')[1]);
  return invokeChainPlugin(node, NET, 'portmap', 'ADD', ctr, bridge.json, mapping(hostPort, hostIP));
}

describe('a host port is not hijacked through a specific host address', () => {
  it('every address first: a mapping on one host address of that port is refused (131 naming the holder), the first keeps its traffic', async () => {
    const [a, b] = [pool.make('a'), pool.make('b')];
    ok(await withPort(a, 18080));
    const hijack = await withPort(b, 18080, UPLINK.host4);
    expect(hijack.json?.code, hijack.stdout).toBe(131);
    expect(hijack.json.msg).toContain(`ctr-${a.name}`);
    expect(hijack.json.msg).toContain('runtimeConfig.portMappings[0]');
    expect(ask(node.outside, 'tcp', UPLINK.host4, 18080)).toBe(`a saw ${UPLINK.outside4}`);
  });

  it('one host address first: the same port on every address is refused', async () => {
    const [a, b] = [pool.make('a'), pool.make('b')];
    ok(await withPort(a, 18081, UPLINK.host4));
    const wider = await withPort(b, 18081);
    expect(wider.json?.code, wider.stdout).toBe(131);
    expect(wider.json.msg).toContain(`ctr-${a.name}`);
  });

  it('distinct host addresses may share a port, each reaching its own container (as Docker allows)', async () => {
    const [a, b] = [pool.make('a'), pool.make('b')];
    ok(await withPort(a, 18082, UPLINK.host4));
    ok(await withPort(b, 18082, '127.0.0.1'));
    expect(ask(node.host, 'tcp', UPLINK.host4, 18082)).toMatch(/^a saw /);
    expect(ask(node.host, 'tcp', '127.0.0.1', 18082)).toMatch(/^b saw /);
  });
});
