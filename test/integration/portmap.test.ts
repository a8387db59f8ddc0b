import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execGc, execPlugin, type PluginOutcome } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { UPLINK } from '../helpers/topology';
import { until } from '../helpers/poll';
import { ask, serve, udpStream } from '../helpers/traffic';

let dir: string;
let host: TestNetns;
let outside: TestNetns;
const pool = useNodeFixture('cnit-pm-', (node) => ({ dir, host, outside } = node));
afterEach(() => {
  extraEnv = {};
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

let extraEnv: Record<string, string> = {};
const env = () => ({ CNI_TS_STATE_DIR: join(dir, 'state'), ...extraEnv });
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

describe('portmap ADD: protocols and host addresses', () => {
  it('skips a mapping on a family the container has no address of (a runtime publishes on 0.0.0.0 and ::), as the reference does', async () => {
    const web = pool.make('web');
    const { portmap } = await attach(
      web,
      [
        { hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '0.0.0.0' },
        { hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '::' },
      ],
      { ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.45.0.0/24' }]] } },
    );
    ok(portmap);
    await serve(web, 'tcp', 80, 'web');
    expect(ask(outside, 'tcp', UPLINK.host4, 8080)).toBe(`web saw ${UPLINK.outside4}`);
    expect(elements('portmap6')).toEqual([]);
    ok(await invoke('portmap', 'CHECK', web, portmapConf([{ hostPort: 8080, containerPort: 80, hostIP: '::' }], portmap.json)));
  });

  it('maps UDP, and keeps TCP and UDP on one port apart', async () => {
    const dns = pool.make('dns');
    ok(
      (
        await attach(dns, [
          { hostPort: 5353, containerPort: 53, protocol: 'udp' },
          { hostPort: 5353, containerPort: 80, protocol: 'tcp' },
        ])
      ).portmap,
    );
    await serve(dns, 'udp', 53, 'udp53');
    await serve(dns, 'tcp', 80, 'tcp80');
    expect(ask(outside, 'udp', UPLINK.host4, 5353)).toBe(`udp53 saw ${UPLINK.outside4}`);
    expect(ask(outside, 'udp', UPLINK.host6, 5353)).toBe(`udp53 saw ${UPLINK.outside6}`);
    expect(ask(outside, 'tcp', UPLINK.host4, 5353)).toBe(`tcp80 saw ${UPLINK.outside4}`);
  });

  it("a UDP flow that keeps sending reaches the container that replaced its first one: ADD flushes the port's stale connection tracking, as the reference", async () => {
    const udp = [{ hostPort: 5353, containerPort: 53, protocol: 'udp' }];
    const first = pool.make('first');
    const { bridge } = await attach(first, udp);
    await serve(first, 'udp', 53, 'first');
    const stream = udpStream(outside, UPLINK.host4, 5353);
    await until('answers from the first container', () => stream.answers.some((a) => a.startsWith('first saw')));

    // the container is replaced: the flow's conntrack entry still says first's address, and traffic keeps it alive
    ok(await invoke('portmap', 'DEL', first, portmapConf(udp, bridge.json)));
    ok(await invoke('bridge', 'DEL', first, bridgeConf()));
    const second = pool.make('second');
    await serve(second, 'udp', 53, 'second');
    ok((await attach(second, udp)).portmap);
    await until('answers from the second container', () => stream.answers.some((a) => a.startsWith('second saw')), 5000);
    expect(stream.answers.at(-1)).toBe(`second saw ${UPLINK.outside4}`);
  });

  it('hostIP restricts a mapping to that address; "0.0.0.0" means every IPv4 address and no IPv6', async () => {
    host.exec('ip', ['addr', 'add', '198.51.100.3/24', 'dev', 'uplink0']);
    const web = pool.make('web');
    const { portmap } = await attach(web, [
      { hostPort: 8080, containerPort: 80, hostIP: UPLINK.host4 },
      { hostPort: 9090, containerPort: 80, hostIP: '0.0.0.0' },
    ]);
    ok(portmap);
    await serve(web, 'tcp', 80, 'web');
    expect(ask(outside, 'tcp', UPLINK.host4, 8080)).toBe(`web saw ${UPLINK.outside4}`);
    expect(ask(outside, 'tcp', '198.51.100.3', 8080)).toBeUndefined();
    expect(ask(outside, 'tcp', UPLINK.host6, 8080)).toBeUndefined();
    expect(ask(outside, 'tcp', '198.51.100.3', 9090)).toBe(`web saw ${UPLINK.outside4}`);
    expect(ask(outside, 'tcp', UPLINK.host6, 9090)).toBeUndefined();
  });

  it('passes prevResult through untouched when there is nothing to map, and installs nothing', async () => {
    const ctr = pool.make('c');
    const before = tableListing();
    const bridge = await invoke('bridge', 'ADD', ctr, bridgeConf());
    const afterBridge = tableListing();
    const r = await invoke('portmap', 'ADD', ctr, portmapConf(undefined, bridge.json));
    ok(r);
    expect(r.json).toEqual(bridge.json);
    expect(tableListing()).toBe(afterBridge);
    expect(before).not.toContain('portmap');
  });
});

describe('portmap DEL, CHECK, GC', () => {
  it('DEL removes every element it added, needs neither prevResult nor portMappings, and can run twice', async () => {
    const peer = pool.make('peer');
    ok((await attach(peer, [{ hostPort: 7000, containerPort: 80 }])).portmap);
    const web = pool.make('web');
    const bridge = await invoke('bridge', 'ADD', web, bridgeConf());
    const before = tableListing();
    const mappings = [
      { hostPort: 8080, containerPort: 80 },
      { hostPort: 8443, containerPort: 443, hostIP: UPLINK.host4 },
      { hostPort: 5353, containerPort: 53, protocol: 'udp' },
    ];
    ok(await invoke('portmap', 'ADD', web, portmapConf(mappings, bridge.json)));
    expect(tableListing()).not.toBe(before);
    expect(elements('portmap4')).toHaveLength(3);
    ok(await invoke('portmap', 'DEL', web, portmapConf(undefined)));
    expect(tableListing()).toBe(before);
    ok(await invoke('portmap', 'DEL', web, portmapConf(undefined)));
    expect(tableListing()).toBe(before);
  });

  it('CHECK passes after ADD and names what is missing after the ruleset was flushed', async () => {
    const web = pool.make('web');
    const mappings = [{ hostPort: 8080, containerPort: 80 }];
    const { bridge } = await attach(web, mappings);
    ok(await invoke('portmap', 'CHECK', web, portmapConf(mappings, bridge.json)));
    const extra = [...mappings, { hostPort: 9999, containerPort: 99 }];
    const unrecorded = await invoke('portmap', 'CHECK', web, portmapConf(extra, bridge.json));
    expect(unrecorded.json).toMatchObject({ code: 140, msg: expect.stringContaining('9999') });
    host.exec('nft', ['flush', 'ruleset']);
    const flushed = await invoke('portmap', 'CHECK', web, portmapConf(mappings, bridge.json));
    expect(flushed.json).toMatchObject({ code: 140, msg: expect.stringContaining('portmap4 { tcp . 8080 }') });
  });

  it('GC removes the mappings of attachments that are no longer valid and keeps the valid ones', async () => {
    const kept = pool.make('kept');
    const leaked = pool.make('leaked');
    ok((await attach(kept, [{ hostPort: 7000, containerPort: 80 }])).portmap);
    ok((await attach(leaked, [{ hostPort: 7001, containerPort: 80 }])).portmap);
    await serve(kept, 'tcp', 80, 'kept');
    await serve(leaked, 'tcp', 80, 'leaked');
    expect(ask(outside, 'tcp', UPLINK.host4, 7001)).toBe(`leaked saw ${UPLINK.outside4}`);
    const gc = await execGc('portmap', portmapConf(undefined), [`ctr-${kept.name}`], { inNetns: host.name, env: env() });
    ok(gc);
    expect(ask(outside, 'tcp', UPLINK.host4, 7001)).toBeUndefined();
    expect(ask(outside, 'tcp', UPLINK.host4, 7000)).toBe(`kept saw ${UPLINK.outside4}`);
    expect(elements('portmap4').join()).not.toContain('7001');
  });
});

describe('portmap ownership and conflicts', () => {
  it('refuses a host port another container has mapped; the first keeps working', async () => {
    const first = pool.make('first');
    const second = pool.make('second');
    ok((await attach(first, [{ hostPort: 8080, containerPort: 80 }])).portmap);
    await serve(first, 'tcp', 80, 'first');
    const bridge = await invoke('bridge', 'ADD', second, bridgeConf());
    const before = tableListing();
    const portmap = await invoke(
      'portmap',
      'ADD',
      second,
      portmapConf(
        [
          { hostPort: 9090, containerPort: 80 },
          { hostPort: 8080, containerPort: 80 },
        ],
        bridge.json,
      ),
    );
    expect(portmap.code).toBe(1);
    expect(portmap.json).toMatchObject({ code: 131, msg: expect.stringContaining('runtimeConfig.portMappings[1]') });
    expect(portmap.json.msg).toContain(`ctr-${first.name}`);
    expect(ask(outside, 'tcp', UPLINK.host4, 8080)).toBe(`first saw ${UPLINK.outside4}`);
    // nothing of the refused ADD is left, not even its other mapping
    expect(tableListing()).toBe(before);
  });

  it('replaces a map element nobody owns (left by a crash) within the ADD transaction', async () => {
    const first = pool.make('first');
    ok((await attach(first, [{ hostPort: 7000, containerPort: 80 }])).portmap);
    host.exec('nft', ['add element inet cni_ts portmap4 { tcp . 8080 : 10.45.0.250 . 80 }']);
    const web = pool.make('web');
    ok((await attach(web, [{ hostPort: 8080, containerPort: 80 }])).portmap);
    await serve(web, 'tcp', 80, 'web');
    expect(ask(outside, 'tcp', UPLINK.host4, 8080)).toBe(`web saw ${UPLINK.outside4}`);
    expect(elements('portmap4').join()).not.toContain('10.45.0.250');
  });

  it('a late DEL of an old container never removes what a newer container with its address added', async () => {
    const old = pool.make('old');
    const { bridge } = await attach(old, [{ hostPort: 8080, containerPort: 80 }]);
    const reused = addressOf(bridge, 4);
    // the old container's interface and address go away without a portmap DEL (a runtime crashed)
    ok(await invoke('bridge', 'DEL', old, bridgeConf()));
    const newer = pool.make('newer');
    const { portmap } = await attach(newer, [{ hostPort: 9090, containerPort: 80 }], { args: { cni: { ips: [reused] } } });
    ok(portmap);
    await serve(newer, 'tcp', 80, 'newer');
    const peer = pool.make('peer');
    ok((await attach(peer, [])).portmap);

    ok(await invoke('portmap', 'DEL', old, portmapConf(undefined)));
    expect(ask(outside, 'tcp', UPLINK.host4, 9090)).toBe(`newer saw ${UPLINK.outside4}`);
    // the masquerade element for the shared address survived: same-bridge and localhost still work
    expect(ask(peer, 'tcp', UPLINK.host4, 9090)).toBe(`newer saw ${GATEWAY4}`);
    expect(ask(host, 'tcp', '127.0.0.1', 9090)).toBe(`newer saw ${GATEWAY4}`);
    // the old container's own port is gone
    expect(ask(outside, 'tcp', UPLINK.host4, 8080)).toBeUndefined();
  });
});

describe('portmap security and bad input', () => {
  it('route_localnet comes with the CVE-2020-8558 guard: a neighbour on the bridge cannot reach the host loopback', async () => {
    const web = pool.make('web');
    ok((await attach(web, [{ hostPort: 8080, containerPort: 80 }])).portmap);
    expect(host.exec('sysctl', ['-n', 'net.ipv4.conf.cnipm0.route_localnet']).trim()).toBe('1');
    await serve(host, 'tcp', 6000, 'loopback-only', '127.0.0.1');
    // an attacker on the bridge's network sends to 127.0.0.1 through the gateway
    const attacker = pool.make('attacker');
    ok((await attach(attacker, [])).portmap);
    // (its lo is down, so it has no local 127.0.0.0/8 route of its own)
    attacker.exec('ip', ['route', 'add', '127.0.0.1/32', 'via', GATEWAY4, 'dev', 'eth0']);
    attacker.exec('sysctl', ['-qw', 'net.ipv4.conf.eth0.route_localnet=1', 'net.ipv4.conf.all.route_localnet=1']);
    expect(ask(attacker, 'tcp', '127.0.0.1', 6000)).toBeUndefined();
    // the test can fail: without the guard the same packets reach the service
    host.exec('nft', ['flush', 'chain', 'inet', 'cni_ts', 'localnet_guard']);
    expect(ask(attacker, 'tcp', '127.0.0.1', 6000)).toMatch(/^loopback-only saw 10\.45\.0\./);
  });

  it.each([
    ['hostPort 0', [{ hostPort: 0, containerPort: 80 }], 7, 'runtimeConfig.portMappings[0].hostPort'],
    ['hostPort above 65535', [{ hostPort: 65536, containerPort: 80 }], 7, 'runtimeConfig.portMappings[0].hostPort'],
    ['containerPort not a number', [{ hostPort: 80, containerPort: '80' }], 7, 'runtimeConfig.portMappings[0].containerPort'],
    ['unknown protocol', [{ hostPort: 80, containerPort: 80, protocol: 'icmp' }], 7, 'runtimeConfig.portMappings[0].protocol'],
    ['hostIP not an address', [{ hostPort: 80, containerPort: 80, hostIP: 'localhost' }], 7, 'runtimeConfig.portMappings[0].hostIP'],
    [
      'one port mapped twice',
      [
        { hostPort: 80, containerPort: 80 },
        { hostPort: 80, containerPort: 81 },
      ],
      7,
      'runtimeConfig.portMappings[1].hostPort',
    ],
  ])('%s: a CNI error naming the field, nothing installed', async (_what, mappings, code, field) => {
    const ctr = pool.make('c');
    const bridge = await invoke('bridge', 'ADD', ctr, bridgeConf({ ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.45.0.0/24' }]] } }));
    ok(bridge);
    const before = tableListing();
    const r = await invoke('portmap', 'ADD', ctr, portmapConf(mappings as Mapping[], bridge.json));
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ code, msg: expect.stringContaining(field) });
    expect(r.stdout).not.toContain('    at ');
    expect(tableListing()).toBe(before);
  });

  it('refuses to run unchained (no prevResult) and refuses an unknown backend', async () => {
    const ctr = pool.make('c');
    const unchained = await invoke('portmap', 'ADD', ctr, portmapConf([{ hostPort: 80, containerPort: 80 }]));
    expect(unchained.json).toMatchObject({ code: 7, msg: expect.stringContaining('prevResult') });
    const backend = await invoke(
      'portmap',
      'ADD',
      ctr,
      portmapConf([{ hostPort: 80, containerPort: 80 }], { cniVersion: '1.0.0', ips: [{ address: '10.45.0.9/24' }] }, { backend: 'pf' }),
    );
    expect(backend.json).toMatchObject({ code: 7, msg: expect.stringContaining('"backend"') });
    expect(tableListing()).toBe('');
  });
});

describe('portmap without libnftables', () => {
  it('sends the same transactions through the nft binary (CNI_TS_NFT=binary)', async () => {
    extraEnv = { CNI_TS_NFT: 'binary' };
    const web = pool.make('web');
    const { bridge } = await attach(web, [{ hostPort: 8080, containerPort: 80 }]);
    await serve(web, 'tcp', 80, 'web');
    expect(ask(outside, 'tcp', UPLINK.host4, 8080)).toBe(`web saw ${UPLINK.outside4}`);
    ok(await invoke('portmap', 'CHECK', web, portmapConf([{ hostPort: 8080, containerPort: 80 }], bridge.json)));
    ok(await invoke('portmap', 'DEL', web, portmapConf(undefined)));
    expect(elements('portmap4')).toEqual([]);
  });
});

describe('portmap next to other firewall users', () => {
  it("touches only its own table: iptables-nft's nat table and another nftables table keep their rules", async () => {
    host.exec('iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-s', '192.0.2.0/24', '-j', 'MASQUERADE']);
    host.exec('nft', ['add table inet someone_else { chain c { type filter hook forward priority 0; policy accept; counter; }; }']);
    const theirs = () => host.exec('nft', ['list', 'ruleset']).replace(/table inet cni_ts \{[\s\S]*?\n\}\n/, '');
    const before = theirs();
    expect(before).toContain('someone_else');
    expect(before).toContain('192.0.2.0/24');
    const web = pool.make('web');
    ok((await attach(web, [{ hostPort: 8080, containerPort: 80 }])).portmap);
    await serve(web, 'tcp', 80, 'web');
    expect(ask(outside, 'tcp', UPLINK.host4, 8080)).toBe(`web saw ${UPLINK.outside4}`);
    ok(await invoke('portmap', 'DEL', web, portmapConf(undefined)));
    ok(await invoke('bridge', 'DEL', web, bridgeConf()));
    // their rules are byte for byte the same (the forward counter aside)
    const strip = (text: string) => text.replace(/counter packets \d+ bytes \d+/g, 'counter');
    expect(strip(theirs())).toBe(strip(before));
  });
});
