import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execPlugin } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { UPLINK } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';

/**
 * Two Kubernetes-like nodes: node 1 is the fixture's host (with its uplink to "outside"), node 2 a
 * second host namespace; a veth "cluster" link joins them (192.0.2.1 and .2). Each node has its pod
 * CIDR (10.244.1.0/24, 10.244.2.0/24) and a route to the other's through the other node, as a
 * kubelet node with routes from its CNI or cloud has. The cluster CIDR is 10.244.0.0/16.
 */
let dir: string;
let node1: TestNetns;
let outside: TestNetns;
let node2: TestNetns;
const pool = useNodeFixture('cnit-cluster-', (node) => {
  ({ dir, host: node1, outside } = node);
  node2 = pool.make('node2');
  const ip = (...args: string[]) => execFileSync('ip', args);
  ip('-n', node1.name, 'link', 'add', 'cluster0', 'type', 'veth', 'peer', 'name', 'cluster0', 'netns', node2.name);
  ip('-n', node1.name, 'addr', 'add', '192.0.2.1/24', 'dev', 'cluster0');
  ip('-n', node2.name, 'addr', 'add', '192.0.2.2/24', 'dev', 'cluster0');
  for (const ns of [node1, node2]) {
    ip('-n', ns.name, 'link', 'set', 'cluster0', 'up');
    ip('-n', ns.name, 'link', 'set', 'lo', 'up');
  }
  ip('-n', node1.name, 'route', 'add', '10.244.2.0/24', 'via', '192.0.2.2');
  ip('-n', node2.name, 'route', 'add', '10.244.1.0/24', 'via', '192.0.2.1');
});

const CLUSTER_CIDR = '10.244.0.0/16';

function conf(type: 'ptp' | 'bridge', n: 1 | 2, extra: Record<string, unknown>) {
  return {
    cniVersion: '1.0.0',
    name: 'kubenet',
    type,
    ...(type === 'bridge' ? { bridge: 'cnik0', isGateway: true } : {}),
    ipMasq: true,
    ipam: { type: 'host-local', dataDir: join(dir, `node${n}`, 'ipam'), ranges: [[{ subnet: `10.244.${n}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }] },
    ...extra,
  };
}

/** A pod on node `n`: its namespace and its address. */
async function pod(type: 'ptp' | 'bridge', n: 1 | 2, extra: Record<string, unknown> = {}): Promise<{ ns: TestNetns; ip: string }> {
  const ns = pool.make(`pod${n}`);
  const r = await execPlugin(type, {
    command: 'ADD',
    containerId: `pod-${ns.name}`,
    netns: ns.path,
    ifname: 'eth0',
    stdin: conf(type, n, extra),
    inNetns: (n === 1 ? node1 : node2).name,
    env: { CNI_TS_STATE_DIR: join(dir, `node${n}`, 'state') },
  });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return { ns, ip: r.json.ips[0].address.split('/')[0] };
}

describe.each(['ptp', 'bridge'] as const)('a two-node cluster on %s + host-local', (type) => {
  it('pods reach pods on the other node with their own addresses (nonMasqueradeCIDRs), and the outside behind the node', async () => {
    const exempt = { nonMasqueradeCIDRs: [CLUSTER_CIDR] };
    const p1 = await pod(type, 1, exempt);
    const p2 = await pod(type, 2, exempt);
    expect(p1.ip).toBe('10.244.1.2');
    expect(p2.ip).toBe('10.244.2.2');
    await serve(p2.ns, 'tcp', 8080, 'p2');
    await serve(p1.ns, 'tcp', 8080, 'p1');
    await serve(outside, 'tcp', 9090, 'outside');
    expect(ask(p1.ns, 'tcp', p2.ip, 8080)).toBe(`p2 saw ${p1.ip}`);
    expect(ask(p2.ns, 'tcp', p1.ip, 8080)).toBe(`p1 saw ${p2.ip}`);
    // a node reaches a pod on another node; the pod sees the node's address (nothing to masquerade)
    expect(ask(node1, 'tcp', p2.ip, 8080)).toBe('p2 saw 192.0.2.1');
    // leaving the cluster CIDR, the pod is still masqueraded behind its node's uplink
    expect(ask(p1.ns, 'tcp', UPLINK.outside4, 9090)).toBe(`outside saw ${UPLINK.host4}`);
  });

  it('without nonMasqueradeCIDRs (the reference behaviour) a pod on the other node sees the sending node, not the pod', async () => {
    const p1 = await pod(type, 1);
    const p2 = await pod(type, 2);
    await serve(p2.ns, 'tcp', 8080, 'p2');
    expect(ask(p1.ns, 'tcp', p2.ip, 8080)).toBe('p2 saw 192.0.2.1');
  });
});

describe('why a field and not a rule in your own table', () => {
  it("an accept in the user's own srcnat chain before ours does not stop our masquerade: nftables runs every NAT base chain until one binds", async () => {
    node1.exec('nft', ['add table ip mine; add chain ip mine post { type nat hook postrouting priority 50; policy accept; }; add rule ip mine post ip daddr 10.244.0.0/16 accept']);
    const p1 = await pod('ptp', 1);
    const p2 = await pod('ptp', 2);
    await serve(p2.ns, 'tcp', 8080, 'p2');
    expect(ask(p1.ns, 'tcp', p2.ip, 8080)).toBe('p2 saw 192.0.2.1');
  });
});
