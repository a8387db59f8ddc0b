import { describe, expect, it } from 'vitest';
import { useNodeFixture } from '../helpers/node-fixture';
import { invokeChainPlugin, ok, suiteTables, type ChainNode } from '../helpers/podman-chain';

let node: ChainNode;
const pool = useNodeFixture('cnit-fadd-', (fixture) => (node = fixture));
const NET = { name: 'fadd', octet: 63 };
const BRIDGE = 'cnifadd0';

const hostLinks = () =>
  node.host
    .ipJson<Array<{ ifname: string }>>('link', 'show')
    .map((l) => l.ifname)
    .sort();
const ipam = (range: object) => ({ ipam: { type: 'host-local', ranges: [[range]] } });

/** IPAM configs bridge's ADD must refuse before it creates anything. */
const badIpam: Array<[string, object]> = [
  ['subnet /33', ipam({ subnet: '10.63.0.0/33' })],
  ['a subnet that is not a CIDR', ipam({ subnet: 'garbage' })],
  ['rangeStart outside the subnet', ipam({ subnet: '10.63.0.0/24', rangeStart: '10.64.0.5' })],
  ['an unknown IPAM type', { ipam: { type: 'no-such-ipam' } }],
  ['an IPAM type that is a path', { ipam: { type: '../../bin/sh' } }],
];

describe('a failed bridge ADD leaves nothing, not even the bridge it created', () => {
  it.each(badIpam)('%s: code 7 and no bridge, veth or rule', async (_what, override) => {
    const ctr = pool.make('c');
    const add = await invokeChainPlugin(node, NET, 'bridge', 'ADD', ctr, undefined, override);
    expect(add.json?.code, add.stdout).toBe(7);
    expect(hostLinks()).toEqual(['lo', 'uplink0']);
    expect(suiteTables(node)).toBe('');
  });

  it('refuses a bad IPAM config before touching the kernel: a non-bridge interface holding the bridge name is not even looked at', async () => {
    // were the bridge step reached first, this interface would make ADD fail with 110 "not a bridge"
    node.host.exec('ip', ['link', 'add', BRIDGE, 'type', 'veth', 'peer', 'name', 'cnifadd1']);
    const add = await invokeChainPlugin(node, NET, 'bridge', 'ADD', pool.make('c'), undefined, ipam({ subnet: '10.63.0.0/33' }));
    expect(add.json?.code, add.stdout).toBe(7);
    expect(add.json.msg).toContain('ipam.ranges[0][0].subnet');
  });

  it('a failure after the bridge was created (the interface name is taken) takes the new bridge away', async () => {
    const ctr = pool.make('c');
    ctr.exec('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    const add = await invokeChainPlugin(node, NET, 'bridge', 'ADD', ctr);
    expect(add.json?.code, add.stdout).toBe(110);
    expect(hostLinks()).toEqual(['lo', 'uplink0']);
  });

  it('keeps a bridge that existed before, and one another container uses', async () => {
    const first = pool.make('c');
    ok(await invokeChainPlugin(node, NET, 'bridge', 'ADD', first));
    const second = pool.make('c');
    second.exec('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    expect((await invokeChainPlugin(node, NET, 'bridge', 'ADD', second)).json?.code).toBe(110);
    expect(hostLinks()).toContain(BRIDGE);
    expect(first.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).toContain('eth0');
  });
});
