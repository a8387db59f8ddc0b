import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_DIR, execGc } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture, type NodeFixture } from '../helpers/node-fixture';
import { addChain, chainConfs, chainEnv, delChain, inHost, invokeChainPlugin, ok, suiteElements, type ChainNet } from '../helpers/podman-chain';
import { UPLINK } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';

/**
 * One container on two networks with the same published port, as Podman runs it for `podman
 * network connect` or `--network a,b`: it passes the container's port mappings to the portmap of
 * every network the container joins. The chain is Podman's (bridge, portmap 8080 -> 80, firewall, tuning).
 */
let node: NodeFixture;
const pool = useNodeFixture('cnit-pmnets-', (fixture) => (node = fixture));

const FRONT: ChainNet = { name: 'pmfront', octet: 51 };
const BACK: ChainNet = { name: 'pmback', octet: 52, ifname: 'eth1' };
const PORT = 8080;

const ipv4Of = (prevResult: { ips: Array<{ address: string }> }) => prevResult.ips.map((i) => i.address.split('/')[0]).find((a) => !a.includes(':'))!;

/** Attaches `ctr` to `net` (the whole chain) and starts a server on port 80 of that attachment's address, answering `<label> saw <client>`. */
async function connect(ctr: TestNetns, net: ChainNet, label: string) {
  const bridge = await addChain(node, net, ctr);
  await serve(ctr, 'tcp', 80, label, ipv4Of(bridge.json));
  return bridge.json;
}

const fromOutside = () => ask(node.outside, 'tcp', UPLINK.host4, PORT);
const fromHost = () => ask(node.host, 'tcp', '127.0.0.1', PORT);
const portmapElements = () => suiteElements(node).filter((e) => e.startsWith('inet portmap'));

/** The ports `cni-ts ls` shows for each attachment of `network`. */
function listedPorts(network: string): Record<string, string[]> {
  const confDir = join(node.dir, 'net.d');
  mkdirSync(confDir, { recursive: true });
  const ls = JSON.parse(inHost(node, join(BIN_DIR, 'cni-ts'), 'ls', '--json', '--conf-dir', confDir, '--cache-dir', join(node.dir, 'cache')));
  const net = ls.networks.find((n: { name: string }) => n.name === network);
  return Object.fromEntries((net?.attachments ?? []).map((a: { ifname: string; ports: string[] }) => [a.ifname, a.ports]));
}

describe('portmap: one container on several networks', () => {
  it('holds its port on both: the first network gets the traffic, the other takes over on disconnect and keeps it on reconnect', async () => {
    const web = pool.make('web');
    const front = await connect(web, FRONT, 'front');
    const back = await connect(web, BACK, 'back');
    expect(fromOutside()).toBe(`front saw ${UPLINK.outside4}`);
    expect(fromHost()).toMatch(/^front saw /);
    // each attachment's CHECK passes, the standby's too
    ok(await invokeChainPlugin(node, FRONT, 'portmap', 'CHECK', web, front));
    ok(await invokeChainPlugin(node, BACK, 'portmap', 'CHECK', web, back));
    // listed once per attachment that holds it; the one waiting is marked
    expect(listedPorts(FRONT.name).eth0).toContainEqual(`tcp 0.0.0.0:${PORT} -> ${ipv4Of(front)}:80`);
    expect(listedPorts(BACK.name).eth1).toContainEqual(`tcp 0.0.0.0:${PORT} -> ${ipv4Of(back)}:80 (standby)`);

    // disconnect the first network: the second takes the port over
    await delChain(node, FRONT, web);
    expect(fromOutside()).toBe(`back saw ${UPLINK.outside4}`);
    expect(fromHost()).toMatch(/^back saw /);
    ok(await invokeChainPlugin(node, BACK, 'portmap', 'CHECK', web, back));
    expect(listedPorts(BACK.name).eth1).toContainEqual(`tcp 0.0.0.0:${PORT} -> ${ipv4Of(back)}:80`);

    // connect it again: the port stays where it is
    const front2 = await connect(web, FRONT, 'front again');
    expect(fromOutside()).toBe(`back saw ${UPLINK.outside4}`);
    ok(await invokeChainPlugin(node, FRONT, 'portmap', 'CHECK', web, front2));

    // after a flush, reapply puts back the mapping of the attachment that holds the port, not the standby's
    inHost(node, 'nft', 'flush', 'ruleset');
    inHost(node, join(BIN_DIR, 'cni-ts-reapply'));
    expect(fromOutside()).toBe(`back saw ${UPLINK.outside4}`);

    // disconnect the second: the first (again) gets it; then nothing is left once both are gone
    await delChain(node, BACK, web);
    expect(fromOutside()).toBe(`front again saw ${UPLINK.outside4}`);
    expect(fromHost()).toMatch(/^front again saw /);
    await delChain(node, FRONT, web);
    expect(fromOutside()).toBeUndefined();
    expect(portmapElements()).toEqual([]);
  });

  it('another container is refused the port on either network, naming the holder, and gets it once the holder is gone', async () => {
    const web = pool.make('web');
    await connect(web, FRONT, 'web');
    await connect(web, BACK, 'web on back');
    const other = pool.make('other');
    for (const net of [FRONT, { ...BACK, ifname: 'eth0' }]) {
      const bridge = await invokeChainPlugin(node, net, 'bridge', 'ADD', other);
      ok(bridge);
      const refused = await invokeChainPlugin(node, net, 'portmap', 'ADD', other, bridge.json);
      expect(refused.json).toMatchObject({ code: 131, msg: expect.stringContaining(`taken by container ctr-${web.name} (eth0) of network ${FRONT.name}`) });
      ok(await invokeChainPlugin(node, net, 'bridge', 'DEL', other));
    }
    expect(fromOutside()).toBe(`web saw ${UPLINK.outside4}`);

    await delChain(node, FRONT, web);
    await delChain(node, BACK, web);
    const bridge = await connect(other, FRONT, 'other');
    expect(bridge).toBeDefined();
    expect(fromOutside()).toBe(`other saw ${UPLINK.outside4}`);
  });

  it('GC agrees with DEL: a stale standby goes without touching the port, a stale holder hands it over', async () => {
    const web = pool.make('web');
    await connect(web, FRONT, 'front');
    await connect(web, BACK, 'back');
    const gc = (net: ChainNet, valid: string[]) => execGc('portmap', { name: net.name, ...chainConfs(node, net).portmap }, valid, { inNetns: node.host.name, env: chainEnv(node) });
    // the valid attachments name eth0 only: on BACK, the container's eth1 is stale
    ok(await gc(BACK, [`ctr-${web.name}`]));
    expect(fromOutside()).toBe(`front saw ${UPLINK.outside4}`);
    expect(listedPorts(BACK.name).eth1).toEqual([]);
    ok(await gc(FRONT, [`ctr-${web.name}`]));
    expect(fromOutside()).toBe(`front saw ${UPLINK.outside4}`);

    await connect(web, { ...BACK, ifname: 'eth2' }, 'back again');
    ok(await gc(FRONT, []));
    expect(fromOutside()).toBe(`back again saw ${UPLINK.outside4}`);
  });
});
