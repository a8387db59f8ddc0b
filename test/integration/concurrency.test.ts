import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostVeths, ipamFiles, stateRecords } from '../helpers/cnitool';
import { execPlugin, type PluginOutcome } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { UPLINK } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';

/** Many plugins at once on one network, as a node starting dozens of pods does. */
const CONTAINERS = 64;
const NET = 'crowd';
const FIRST_PORT = 21000;

let dir: string;
let host: TestNetns;
let outside: TestNetns;
const pool = useNodeFixture('cnit-crowd-', (node) => ({ dir, host, outside } = node));

const bridgeConf = () => ({
  cniVersion: '1.1.0',
  name: NET,
  type: 'bridge',
  bridge: 'cnicrowd0',
  isGateway: true,
  isDefaultGateway: true,
  ipMasq: true,
  ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.50.0.0/24' }], [{ subnet: 'fd50::/64' }]] },
});
const portmapConf = (port: number, prevResult?: object) => ({
  cniVersion: '1.1.0',
  name: NET,
  type: 'portmap',
  runtimeConfig: { portMappings: [{ hostPort: port, containerPort: 80, protocol: 'tcp' }] },
  ...(prevResult ? { prevResult } : {}),
});
const env = () => ({ CNI_TS_STATE_DIR: join(dir, 'state') });
const invoke = (plugin: string, command: string, ctr: TestNetns, stdin: object) =>
  execPlugin(plugin, { command, containerId: `ctr-${ctr.name}`, netns: ctr.path, ifname: 'eth0', stdin, inNetns: host.name, env: env() });

const expectOk = (r: PluginOutcome, what: string) => expect(r.code, `${what}: ${r.stdout}${r.stderr}`).toBe(0);

function elementCount(): number {
  const listing = JSON.parse(execFileSync('ip', ['netns', 'exec', host.name, 'nft', '-j', 'list', 'table', 'inet', 'cni_ts'], { encoding: 'utf8' }));
  return listing.nftables.reduce((n: number, x: { set?: { elem?: unknown[] }; map?: { elem?: unknown[] } }) => n + ((x.set ?? x.map)?.elem?.length ?? 0), 0);
}

describe(`${CONTAINERS} concurrent attachments on one network`, () => {
  it(`${CONTAINERS} ADDs at once (bridge + host-local + ipMasq + portmap), then ${CONTAINERS} DELs at once: distinct addresses, everything released`, async () => {
    const ctrs = Array.from({ length: CONTAINERS }, (_, i) => pool.make(`k${i}`));

    const started = Date.now();
    const results = await Promise.all(
      ctrs.map(async (ctr, i) => {
        const bridge = await invoke('bridge', 'ADD', ctr, bridgeConf());
        expectOk(bridge, `bridge ADD ${i}`);
        expectOk(await invoke('portmap', 'ADD', ctr, portmapConf(FIRST_PORT + i, bridge.json)), `portmap ADD ${i}`);
        return bridge.json as { ips: Array<{ address: string }> };
      }),
    );
    const addSeconds = (Date.now() - started) / 1000;

    const addresses = results.flatMap((r) => r.ips.map((ip) => ip.address.split('/')[0]));
    expect(addresses).toHaveLength(2 * CONTAINERS);
    expect(new Set(addresses).size).toBe(2 * CONTAINERS);
    expect(ipamFiles(join(dir, 'ipam'), NET)).toHaveLength(2 * CONTAINERS);
    expect(hostVeths(host)).toHaveLength(CONTAINERS);
    // every container is reachable through its own mapped port
    const last = ctrs[CONTAINERS - 1];
    await serve(last, 'tcp', 80, 'last');
    expect(ask(outside, 'tcp', UPLINK.host4, FIRST_PORT + CONTAINERS - 1)).toBe(`last saw ${UPLINK.outside4}`);
    expect(elementCount()).toBeGreaterThanOrEqual(CONTAINERS * 4);

    const delStarted = Date.now();
    await Promise.all(
      ctrs.map(async (ctr, i) => {
        expectOk(await invoke('portmap', 'DEL', ctr, portmapConf(FIRST_PORT + i)), `portmap DEL ${i}`);
        expectOk(await invoke('bridge', 'DEL', ctr, bridgeConf()), `bridge DEL ${i}`);
      }),
    );
    const delSeconds = (Date.now() - delStarted) / 1000;
    console.log(
      `${CONTAINERS} concurrent bridge+portmap ADD chains: ${addSeconds.toFixed(1)} s (${(CONTAINERS / addSeconds).toFixed(1)}/s); DEL chains: ${delSeconds.toFixed(1)} s`,
    );

    expect(ipamFiles(join(dir, 'ipam'), NET)).toEqual([]);
    expect(hostVeths(host)).toEqual([]);
    expect(elementCount()).toBe(0);
    expect(stateRecords(dir)).toEqual([]);
  }, 300_000);
});

describe('bounded lock waits', () => {
  it.each([
    ['host-local', () => join(dir, 'ipam', NET, 'lock'), () => ({ ...bridgeConf(), type: 'host-local' })],
    ['portmap', () => join(dir, 'state', 'portmap', 'lock'), () => portmapConf(FIRST_PORT, { cniVersion: '1.1.0', ips: [{ address: '10.50.0.9/24' }] })],
  ] as const)('%s answers 11 (try again later) when its lock stays taken, and changes nothing', async (plugin, lockPath, conf) => {
    const ctr = pool.make('c');
    mkdirSync(dirname(lockPath()), { recursive: true });
    // its own process group, so flock and its sleep go together
    const holder = spawn('flock', [lockPath(), 'sleep', '30'], { stdio: 'ignore', detached: true });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = Date.now();
      const r = await execPlugin(plugin, {
        command: 'ADD',
        containerId: 'waiter',
        netns: ctr.path,
        ifname: 'eth0',
        stdin: conf(),
        inNetns: host.name,
        env: { ...env(), CNI_TS_LOCK_TIMEOUT_MS: '500' },
      });
      expect(r.json).toMatchObject({ code: 11, msg: expect.stringContaining('lock') });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(ipamFiles(join(dir, 'ipam'), NET)).toEqual([]);
      expect(stateRecords(dir)).toEqual([]);
    } finally {
      process.kill(-holder.pid!, 'SIGKILL');
    }
  });
});
