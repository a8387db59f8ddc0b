import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_DIR } from '../helpers/paths';
import { useNodeFixture, type NodeFixture } from '../helpers/node-fixture';
import { addChain, inHost, invokeChainPlugin, ok, suiteElements } from '../helpers/podman-chain';
import { UPLINK } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';

let node: NodeFixture;
const pool = useNodeFixture('cnit-pmcond-', (fixture) => (node = fixture));
const GATED = { name: 'gated', octet: 67 };
const OPEN = { name: 'open', octet: 68 };
// the mapping applies only to packets addressed to the node's uplink address, in IPv4
const ONLY_UPLINK = { conditionsV4: ['ip', 'daddr', UPLINK.host4] };

const portmap = (hostPort: number, extra: object = {}) => ({ runtimeConfig: { portMappings: [{ hostPort, containerPort: 80, protocol: 'tcp' }] }, ...extra });
const table = () => inHost(node, 'nft', 'list', 'table', 'inet', 'cni_ts');
const gatewayOf = (net: typeof GATED) => `10.${net.octet}.0.1`;

/** A container of `net` serving on port 80, its port `hostPort` mapped with `extra` in portmap's config. */
async function published(net: typeof GATED, hostPort: number, extra: object = {}) {
  const ctr = pool.make(net.name);
  const bridge = await addChain(node, net, ctr, ['bridge']);
  const add = await invokeChainPlugin(node, net, 'portmap', 'ADD', ctr, bridge.json, portmap(hostPort, extra));
  await serve(ctr, 'tcp', 80, net.name);
  return { ctr, bridge, add };
}

describe('portmap conditionsV4 / conditionsV6', () => {
  it("gate only that network's mappings of that family; the chains and maps go with its last container", async () => {
    const gated = await published(GATED, 8080, ONLY_UPLINK);
    ok(gated.add);
    const open = await published(OPEN, 9090);
    ok(open.add);

    // to the uplink address: mapped; to another local address (the bridge's gateway, from the host): not
    expect(ask(node.outside, 'tcp', UPLINK.host4, 8080)).toBe(`gated saw ${UPLINK.outside4}`);
    expect(ask(node.host, 'tcp', gatewayOf(GATED), 8080)).toBeUndefined();
    // IPv6 has no conditions: mapped as usual
    expect(ask(node.outside, 'tcp', UPLINK.host6, 8080)).toBe(`gated saw ${UPLINK.outside6}`);
    // the other network is not gated by them
    expect(ask(node.host, 'tcp', gatewayOf(GATED), 9090)).toMatch(/^open saw /);
    expect(ask(node.outside, 'tcp', UPLINK.host4, 9090)).toBe(`open saw ${UPLINK.outside4}`);
    ok(await invokeChainPlugin(node, GATED, 'portmap', 'CHECK', gated.ctr, gated.bridge.json, portmap(8080, ONLY_UPLINK)));

    // host ports stay exclusive across conditions: the open network cannot take 8080
    const taken = await published(OPEN, 8080);
    expect(taken.add.json.code).toBe(131);

    // after `nft flush ruleset`, cni-ts-reapply puts the conditions' chains and maps back
    inHost(node, 'nft', 'flush', 'ruleset');
    inHost(node, join(BIN_DIR, 'cni-ts-reapply'));
    expect(ask(node.outside, 'tcp', UPLINK.host4, 8080)).toBe(`gated saw ${UPLINK.outside4}`);
    expect(ask(node.host, 'tcp', gatewayOf(GATED), 8080)).toBeUndefined();

    // CHECK fails when the conditions' chain lost its rules
    const chain = /chain (portmap4_c[0-9a-f]{8}_dnat) \{/.exec(table())![1];
    inHost(node, 'nft', 'flush', 'chain', 'inet', 'cni_ts', chain);
    const check = await invokeChainPlugin(node, GATED, 'portmap', 'CHECK', gated.ctr, gated.bridge.json, portmap(8080, ONLY_UPLINK));
    expect(check.json.code).toBe(140);
    expect(check.json.msg).toContain(chain);

    ok(await invokeChainPlugin(node, GATED, 'portmap', 'DEL', gated.ctr, undefined, portmap(8080, ONLY_UPLINK)));
    expect(table()).not.toContain(chain);
    expect(table()).not.toMatch(/_c[0-9a-f]{8}/);
    expect(ask(node.outside, 'tcp', UPLINK.host4, 9090)).toBe(`open saw ${UPLINK.outside4}`);
    ok(await invokeChainPlugin(node, GATED, 'portmap', 'DEL', gated.ctr, undefined, portmap(8080, ONLY_UPLINK)));
  });

  it('two containers with the same conditions share their chain, which stays until the second goes', async () => {
    const a = await published(GATED, 8080, ONLY_UPLINK);
    const b = await published(GATED, 8081, ONLY_UPLINK);
    ok(a.add);
    ok(b.add);
    expect(table().match(/chain portmap4_c[0-9a-f]{8}_dnat \{/g)).toHaveLength(1);
    ok(await invokeChainPlugin(node, GATED, 'portmap', 'DEL', a.ctr, undefined, portmap(8080)));
    expect(ask(node.outside, 'tcp', UPLINK.host4, 8081)).toBe(`gated saw ${UPLINK.outside4}`);
    expect(table()).toMatch(/chain portmap4_c[0-9a-f]{8}_dnat \{/);
    ok(await invokeChainPlugin(node, GATED, 'portmap', 'DEL', b.ctr, undefined, portmap(8081)));
    expect(table()).not.toMatch(/_c[0-9a-f]{8}/);
  });

  it('a repeated ADD with other conditions moves the mapping: the old ones no longer apply, and their chains go', async () => {
    const web = await published(GATED, 8080, ONLY_UPLINK);
    ok(web.add);
    const before = /chain (portmap4_c[0-9a-f]{8}_dnat) \{/.exec(table())![1];
    const toGateway = { conditionsV4: ['ip', 'daddr', gatewayOf(GATED)] };
    ok(await invokeChainPlugin(node, GATED, 'portmap', 'ADD', web.ctr, web.bridge.json, portmap(8080, toGateway)));
    expect(table()).not.toContain(before);
    expect(ask(node.host, 'tcp', gatewayOf(GATED), 8080)).toMatch(/^gated saw /);
    expect(ask(node.outside, 'tcp', UPLINK.host4, 8080)).toBeUndefined();
    ok(await invokeChainPlugin(node, GATED, 'portmap', 'CHECK', web.ctr, web.bridge.json, portmap(8080, toGateway)));
  });

  it.each([
    ['a statement', { conditionsV4: ['ip', 'saddr', '10.0.0.1', 'accept'] }, 7, 'conditionsV4'],
    ['a second command', { conditionsV4: ['ip daddr 10.0.0.1;', 'flush', 'ruleset'] }, 7, 'conditionsV4'],
    ['what nftables refuses', { conditionsV6: ['ip6', 'daddr', '10.0.0.1'] }, 7, 'conditionsV6'],
    ['a statement glued to a match', { conditionsV4: ['ip saddr {0.0.0.0/0}counter'] }, 7, 'conditionsV4'],
    ['a verdict glued to a match', { conditionsV4: ['ip saddr {10.0.0.0/8}accept'] }, 7, 'conditionsV4'],
    ['iptables syntax', { conditionsV4: ['-d', '192.0.2.1'] }, 2, 'conditionsV4'],
  ])('%s: refused naming the field, nothing installed', async (_what, extra, code, field) => {
    const { add } = await published(GATED, 8080, extra);
    expect(add.json.code, add.stdout).toBe(code);
    expect(add.json.msg).toContain(`"${field}"`);
    expect(suiteElements(node).filter((e) => e.includes(' portmap'))).toEqual([]);
    expect(table()).not.toMatch(/_c[0-9a-f]{8}/);
  });
});
