import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_DIR, execGc } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { addChain, chainConfs, chainEnv, delChain, inHost, invokeChainPlugin, ok, suiteElements, type ChainNode } from '../helpers/podman-chain';

let node: ChainNode;
const pool = useNodeFixture('cnit-pcut-', (fixture) => (node = fixture));
const NET = { name: 'pcut', octet: 64 };

/** Every file under `dir` whose path matches, truncated to 0 bytes: what a rename that never reached the disk leaves. */
function truncateAll(dir: string, match: (path: string) => boolean): number {
  let count = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile() && match(path) && !path.endsWith('/lock')) {
      truncateSync(path, 0);
      count++;
    }
  }
  return count;
}

const addressOf = (result: { ips: Array<{ address: string }> }) => result.ips[0].address.split('/')[0];
const elementsMentioning = (ip: string) => suiteElements(node).filter((e) => e.includes(`"${ip}"`));

async function twoContainers(): Promise<{ a: TestNetns; b: TestNetns; ipA: string; ipB: string }> {
  const a = pool.make('a');
  const b = pool.make('b');
  const ipA = addressOf((await addChain(node, NET, a, ['bridge', 'firewall', 'tuning'])).json);
  const ipB = addressOf((await addChain(node, NET, b)).json);
  expect(elementsMentioning(ipA).length).toBeGreaterThan(0);
  expect(elementsMentioning(ipB).length).toBeGreaterThan(0);
  return { a, b, ipA, ipB };
}

describe('state files emptied by a power cut', () => {
  it('records: DEL succeeds and removes everything the container had, found through the owners; the other container keeps its own', async () => {
    const { a, b, ipA, ipB } = await twoContainers();
    expect(truncateAll(join(node.dir, 'state'), (p) => p.includes('/attachments/'))).toBeGreaterThan(4);

    await delChain(node, NET, a);
    expect(a.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(elementsMentioning(ipA)).toEqual([]);
    expect(inHost(node, 'iptables-save')).not.toContain(`${ipA}/32`);
    expect(elementsMentioning(ipB).length).toBeGreaterThan(0);
    expect(inHost(node, 'iptables-save')).toContain(`${ipB}/32`);
    await delChain(node, NET, b);
    expect(elementsMentioning(ipB)).toEqual([]);
  });

  it('records: a cni-ts-reapply (which lists every record) before the DEL does not make the DEL forget what it owned', async () => {
    const { b, ipB } = await twoContainers();
    truncateAll(join(node.dir, 'state'), (p) => p.includes('/attachments/'));
    inHost(node, join(BIN_DIR, 'cni-ts-reapply'));
    await delChain(node, NET, b);
    expect(elementsMentioning(ipB)).toEqual([]);
    // its host port is free again
    const c = pool.make('c');
    const bridge = await addChain(node, NET, c, ['bridge']);
    ok(await invokeChainPlugin(node, NET, 'portmap', 'ADD', c, bridge.json));
  });

  it('records: GC removes what the stale container owned and keeps the valid one', async () => {
    const { a, ipA, ipB } = await twoContainers();
    truncateAll(join(node.dir, 'state'), (p) => p.includes('/attachments/'));
    for (const plugin of ['bridge', 'portmap', 'firewall'] as const) {
      const r = await execGc(plugin, { name: NET.name, ...chainConfs(node, NET)[plugin] }, [`ctr-${a.name}`], { inNetns: node.host.name, env: chainEnv(node) });
      ok(r);
    }
    expect(elementsMentioning(ipB)).toEqual([]);
    expect(inHost(node, 'iptables-save')).not.toContain(`${ipB}/32`);
    expect(elementsMentioning(ipA).length).toBeGreaterThan(0);
  });

  it("owners and the tuning backup: DEL succeeds and removes the container's entries, not the other's", async () => {
    const { a, ipA, ipB } = await twoContainers();
    expect(truncateAll(join(node.dir, 'state'), (p) => p.includes('/owners/'))).toBeGreaterThan(4);
    expect(truncateAll(join(node.dir, 'tuning'), () => true)).toBe(2);
    await delChain(node, NET, a);
    expect(elementsMentioning(ipA)).toEqual([]);
    expect(inHost(node, 'iptables-save')).not.toContain(`${ipA}/32`);
    expect(elementsMentioning(ipB).length).toBeGreaterThan(0);
    expect(readdirSync(join(node.dir, 'tuning'))).toHaveLength(1);
  });
});
