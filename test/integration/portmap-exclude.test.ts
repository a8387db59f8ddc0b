import { describe, expect, it } from 'vitest';
import { useNodeFixture, type NodeFixture } from '../helpers/node-fixture';
import { addChain, inHost, invokeChainPlugin, ok } from '../helpers/podman-chain';
import { UPLINK } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';

let node: NodeFixture;
const pool = useNodeFixture('cnit-excl-', (fixture) => (node = fixture));
const NET = { name: 'excl', octet: 66 };
const CLUSTER_IP = '10.96.0.10';

/**
 * kube-proxy in IPVS mode puts every ClusterIP on a local dummy interface, so `fib daddr type
 * local` is true for it and a hostPort on the same port would capture the service's traffic
 * (the class of CVE-2019-9946). The node's administrator lists the service range in
 * portmap4_exclude; the ClusterIP then reaches the service again, and the host port still works.
 */
describe('portmap exclusion set for local addresses that are not host ports', () => {
  it('a ClusterIP-like local address is captured by a host port until its range is excluded', async () => {
    // the ClusterIP as IPVS has it: a local address with a local listener standing in for the service's backends
    inHost(node, 'ip', 'addr', 'add', `${CLUSTER_IP}/32`, 'dev', 'lo');
    await serve(node.host, 'tcp', 8080, 'service', CLUSTER_IP);
    const [web, pod] = [pool.make('web'), pool.make('pod')];
    const bridge = await addChain(node, NET, web, ['bridge']);
    ok(await invokeChainPlugin(node, NET, 'portmap', 'ADD', web, bridge.json));
    await serve(web, 'tcp', 80, 'hostport');
    await addChain(node, NET, pod, ['bridge']);

    expect(ask(pod, 'tcp', CLUSTER_IP, 8080)).toMatch(/^hostport saw /);

    inHost(node, 'nft', 'add', 'element', 'inet', 'cni_ts', 'portmap4_exclude', '{ 10.96.0.0/12 }');
    expect(ask(pod, 'tcp', CLUSTER_IP, 8080)).toMatch(/^service saw /);
    expect(ask(node.outside, 'tcp', UPLINK.host4, 8080)).toMatch(/^hostport saw /);

    // the administrator's elements survive later ADDs, which rebuild the chains
    const other = pool.make('other');
    const second = await addChain(node, NET, other, ['bridge']);
    ok(await invokeChainPlugin(node, NET, 'portmap', 'ADD', other, second.json, { runtimeConfig: { portMappings: [{ hostPort: 9090, containerPort: 80 }] } }));
    expect(ask(pod, 'tcp', CLUSTER_IP, 8080)).toMatch(/^service saw /);
  });
});
