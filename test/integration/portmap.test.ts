import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execPlugin, type PluginOutcome } from '../helpers/exec-plugin';
import { netnsPool, type TestNetns } from '../helpers/netns';
import { requireRoot } from '../helpers/root';
import { UPLINK, makeNode } from '../helpers/topology';
import { ask, serve, stopServers } from '../helpers/traffic';

const pool = netnsPool();
let dir: string;
let host: TestNetns;
let outside: TestNetns;

beforeAll(requireRoot);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cnit-pm-'));
  ({ host, outside } = makeNode((label) => pool.make(label)));
});
afterEach(() => {
  stopServers();
  pool.destroyAll();
  rmSync(dir, { recursive: true, force: true });
});

interface Mapping {
  hostPort: number;
  containerPort: number;
  protocol?: string;
  hostIP?: string;
}

const GATEWAY4 = '10.45.0.1';

const bridgeConf = (args: object = {}) => ({
  cniVersion: '1.0.0',
  name: 'pmnet',
  type: 'bridge',
  bridge: 'cnipm0',
  isGateway: true,
  isDefaultGateway: true,
  ipMasq: true,
  // as Podman writes it: with br_netfilter, a container reaching itself through the host is bridged back to its own port
  hairpinMode: true,
  ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.45.0.0/24' }], [{ subnet: 'fd45::/64' }]] },
  ...args,
});

const portmapConf = (mappings: Mapping[] | undefined, prevResult?: object, extra: object = {}) => ({
  cniVersion: '1.0.0',
  name: 'pmnet',
  type: 'portmap',
  capabilities: { portMappings: true },
  ...(mappings ? { runtimeConfig: { portMappings: mappings } } : {}),
  ...(prevResult ? { prevResult } : {}),
  ...extra,
});

const env = () => ({ CNI_TS_STATE_DIR: join(dir, 'state') });
const invoke = (plugin: string, command: string, ctr: TestNetns, stdin: object, containerId = `ctr-${ctr.name}`) =>
  execPlugin(plugin, { command, containerId, netns: ctr.path, ifname: 'eth0', stdin, inNetns: host.name, env: env() });

/** bridge then portmap, as a runtime runs the conflist; returns both outcomes. */
async function attach(ctr: TestNetns, mappings: Mapping[], bridgeArgs: object = {}, containerId?: string) {
  const bridge = await invoke('bridge', 'ADD', ctr, bridgeConf(bridgeArgs), containerId);
  expect(bridge.code, bridge.stdout + bridge.stderr).toBe(0);
  const portmap = await invoke('portmap', 'ADD', ctr, portmapConf(mappings, bridge.json), containerId);
  return { bridge, portmap };
}

const ok = (r: PluginOutcome) => expect(r.code, r.stdout + r.stderr).toBe(0);
const addressOf = (r: PluginOutcome, family: 4 | 6): string =>
  r.json.ips.map((i: { address: string }) => i.address.split('/')[0]).find((a: string) => (family === 6) === a.includes(':'));

/** The suite's table as nftables lists it, without handles (they change when rules are rebuilt). */
function tableListing(): string {
  try {
    return execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'list', 'table', 'inet', 'cni_ts'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

function elements(set: string): string[] {
  const out = JSON.parse(execFileSync('ip', ['netns', 'exec', host.name, 'nft', '-j', 'list', 'table', 'inet', 'cni_ts'], { encoding: 'utf8' }));
  const entry = out.nftables.find((x: { map?: { name: string }; set?: { name: string } }) => (x.map ?? x.set)?.name === set);
  return ((entry?.map ?? entry?.set)?.elem ?? []).map((e: unknown) => JSON.stringify(e));
}

describe('portmap ADD: reachable from everywhere a user expects', () => {
  it('maps a TCP port for IPv4 and IPv6: from outside, from the host (host address and 127.0.0.1), from another container, from itself', async () => {
    const web = pool.make('web');
    const peer = pool.make('peer');
    const { bridge, portmap } = await attach(web, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
    ok(portmap);
    // a chained plugin passes prevResult through
    expect(portmap.json).toEqual(bridge.json);
    ok((await attach(peer, [])).portmap);
    await serve(web, 'tcp', 80, 'web');
    const webIP = addressOf(bridge, 4);

    // from another machine: DNAT in prerouting, source kept
    expect(ask(outside, 'tcp', UPLINK.host4, 8080)).toBe(`web saw ${UPLINK.outside4}`);
    expect(ask(outside, 'tcp', UPLINK.host6, 8080)).toBe(`web saw ${UPLINK.outside6}`);
    // from the host itself: DNAT in output; 127.0.0.1 needs route_localnet and a masquerade
    expect(ask(host, 'tcp', UPLINK.host4, 8080)).toMatch(/^web saw /);
    expect(ask(host, 'tcp', '127.0.0.1', 8080)).toBe(`web saw ${GATEWAY4}`);
    // from a container on the same bridge and from the container itself (hairpin): masqueraded to the gateway
    expect(ask(peer, 'tcp', UPLINK.host4, 8080)).toBe(`web saw ${GATEWAY4}`);
    expect(ask(web, 'tcp', UPLINK.host4, 8080)).toBe(`web saw ${GATEWAY4}`);
    // the port is not open anywhere else
    expect(ask(outside, 'tcp', UPLINK.host4, 8081)).toBeUndefined();
    expect(ask(outside, 'tcp', webIP, 80)).toBeUndefined();
  });
});
