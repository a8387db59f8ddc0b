import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostVeths, ipamFiles, stateRecords } from '../helpers/cnitool';
import { execGc, execPlugin, type PluginOutcome } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { seededRandom, testSeed } from '../helpers/seeded-random';

/**
 * A runtime kills a plugin that runs past its timeout. Whatever moment the SIGKILL lands in ADD,
 * the retry the runtime does next (DEL, or GC once the sandbox is gone) must leave nothing.
 */
const KILLS = 50;
const NET = 'crashnet';
const SEED = testSeed(20261122);

let dir: string;
let host: TestNetns;
const pool = useNodeFixture('cnit-crash-', (node) => ({ dir, host } = node));

const bridgeConf = () => ({
  cniVersion: '1.1.0',
  name: NET,
  type: 'bridge',
  bridge: 'cnicrash0',
  isGateway: true,
  ipMasq: true,
  macspoofchk: true,
  ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.51.0.0/24' }], [{ subnet: 'fd51::/64' }]] },
});
const portmapConf = (prevResult?: object) => ({
  cniVersion: '1.1.0',
  name: NET,
  type: 'portmap',
  runtimeConfig: { portMappings: [{ hostPort: 22000, containerPort: 80, protocol: 'tcp' }] },
  ...(prevResult ? { prevResult } : {}),
});
const env = () => ({ CNI_TS_STATE_DIR: join(dir, 'state') });
const invoke = (plugin: string, command: string, ctr: TestNetns, stdin: object, killAfterMs?: number) =>
  execPlugin(plugin, { command, containerId: `ctr-${ctr.name}`, netns: ctr.path, ifname: 'eth0', stdin, inNetns: host.name, env: env(), killAfterMs });
const gc = (plugin: string, stdin: object) => execGc(plugin, stdin, [], { inNetns: host.name, env: env() });
const expectOk = (r: PluginOutcome, what: string) => expect(r.code, `${what}: ${r.stdout}${r.stderr}`).toBe(0);

function elementCount(): number {
  let listing: { nftables: Array<{ set?: { elem?: unknown[] }; map?: { elem?: unknown[] } }> };
  try {
    listing = JSON.parse(execFileSync('ip', ['netns', 'exec', host.name, 'nft', '-j', 'list', 'ruleset'], { encoding: 'utf8' }));
  } catch {
    return 0;
  }
  return listing.nftables.reduce((n, x) => n + ((x.set ?? x.map)?.elem?.length ?? 0), 0);
}

function expectClean(what: string): void {
  expect(hostVeths(host), what).toEqual([]);
  expect(ipamFiles(join(dir, 'ipam'), NET), what).toEqual([]);
  expect(stateRecords(dir), what).toEqual([]);
  expect(elementCount(), what).toBe(0);
}

/** How long an uninterrupted bridge ADD and portmap ADD take here, in ms: the fastest of three (the first one also makes the bridge and the table). */
async function timedAdds(): Promise<{ bridge: number; portmap: number }> {
  const times = [await timedAdd(), await timedAdd(), await timedAdd()];
  return { bridge: Math.min(...times.map((t) => t.bridge)), portmap: Math.min(...times.map((t) => t.portmap)) };
}

async function timedAdd(): Promise<{ bridge: number; portmap: number }> {
  const ctr = pool.make('timed');
  const timed = async (run: () => Promise<PluginOutcome>) => {
    const start = Date.now();
    const r = await run();
    expectOk(r, 'an ADD timed before the kills');
    return { r, ms: Date.now() - start };
  };
  const bridge = await timed(() => invoke('bridge', 'ADD', ctr, bridgeConf()));
  const portmap = await timed(() => invoke('portmap', 'ADD', ctr, portmapConf(bridge.r.json)));
  expectOk(await invoke('portmap', 'DEL', ctr, portmapConf()), 'portmap DEL after the timing');
  expectOk(await invoke('bridge', 'DEL', ctr, bridgeConf()), 'bridge DEL after the timing');
  return { bridge: bridge.ms, portmap: portmap.ms };
}

describe(`SIGKILL during ADD (${KILLS} times, seed ${SEED})`, () => {
  it('DEL or GC afterwards leaves no veth, address, record or nftables element, and the next ADD succeeds', async () => {
    const random = seededRandom(SEED);
    // kill times spread over what an ADD takes here (a warm worker's is a tenth of a Node.js process's), some past its end
    const took = await timedAdds();
    let killedMidway = 0;
    for (let round = 0; round < KILLS; round++) {
      const ctr = pool.make(`k${round}`);
      // which plugin dies (bridge, or portmap after a finished bridge), when, and how the runtime cleans up
      const victim = random() < 0.7 ? 'bridge' : 'portmap';
      const delay = Math.floor(random() * took[victim] * 1.25);
      const cleanup = random() < 0.5 ? 'DEL' : 'GC';
      const what = `round ${round}: ${victim} killed after ${delay} ms, then ${cleanup}`;

      let outcome: PluginOutcome;
      if (victim === 'bridge') {
        outcome = await invoke('bridge', 'ADD', ctr, bridgeConf(), delay);
      } else {
        const bridge = await invoke('bridge', 'ADD', ctr, bridgeConf());
        expectOk(bridge, what);
        outcome = await invoke('portmap', 'ADD', ctr, portmapConf(bridge.json), delay);
      }
      if (outcome.signal === 'SIGKILL') killedMidway++;

      if (cleanup === 'DEL') {
        expectOk(await invoke('portmap', 'DEL', ctr, portmapConf()), what);
        expectOk(await invoke('bridge', 'DEL', ctr, bridgeConf()), what);
      } else {
        // GC comes after the sandbox is gone
        ctr.destroy();
        expectOk(await gc('portmap', portmapConf()), what);
        expectOk(await gc('bridge', bridgeConf()), what);
      }
      expectClean(what);
    }
    console.log(`seed ${SEED}: ${killedMidway} of ${KILLS} ADDs were killed before they finished; all cleaned`);
    expect(killedMidway).toBeGreaterThan(KILLS / 2);

    // the network still works
    const ctr = pool.make('after');
    const bridge = await invoke('bridge', 'ADD', ctr, bridgeConf());
    expectOk(bridge, 'ADD after the kills');
    expectOk(await invoke('portmap', 'ADD', ctr, portmapConf(bridge.json)), 'portmap ADD after the kills');
    expectOk(await invoke('portmap', 'DEL', ctr, portmapConf()), 'portmap DEL');
    expectOk(await invoke('bridge', 'DEL', ctr, bridgeConf()), 'bridge DEL');
    expectClean('after the last DEL');
  }, 300_000);
});
