import { execFileSync, spawn } from 'node:child_process';
import { readdirIfExists } from '../../lib/fs';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execGc, execPlugin, type PluginOutcome } from '../helpers/exec-plugin';
import { onNetnsDelete, type TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { startFirewalld, type TestFirewalld } from '../helpers/firewalld';
import { until } from '../helpers/poll';
import { killGroup } from '../helpers/private-bus';
import { UPLINK } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';

let dir: string;
let host: TestNetns;
let outside: TestNetns;
let worldServing: Promise<void> | undefined;
const pool = useNodeFixture('cnit-fw-', (node) => {
  ({ dir, host, outside } = node);
  worldServing = undefined;
});

interface Net {
  name: string;
  bridge: string;
  subnet4: string;
  subnet6: string;
}
const RED: Net = { name: 'fwred', bridge: 'cnifw0', subnet4: '10.46.0.0/24', subnet6: 'fd46::/64' };
const BLUE: Net = { name: 'fwblue', bridge: 'cnifw1', subnet4: '10.47.0.0/24', subnet6: 'fd47::/64' };

const bridgeConf = (net: Net) => ({
  cniVersion: '1.0.0',
  name: net.name,
  type: 'bridge',
  bridge: net.bridge,
  isGateway: true,
  isDefaultGateway: true,
  ipMasq: true,
  ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: net.subnet4 }], [{ subnet: net.subnet6 }]] },
});

const firewallConf = (net: Net, prevResult?: object, extra: object = {}) => ({
  cniVersion: '1.0.0',
  name: net.name,
  type: 'firewall',
  ...(prevResult ? { prevResult } : {}),
  ...extra,
});

const env = () => ({ CNI_TS_STATE_DIR: join(dir, 'state') });
const invoke = (plugin: string, command: string, ctr: TestNetns, stdin: object, extraEnv: Record<string, string> = {}) =>
  execPlugin(plugin, { command, containerId: `ctr-${ctr.name}`, netns: ctr.path, ifname: 'eth0', stdin, inNetns: host.name, env: { ...env(), ...extraEnv } });
const ok = (r: PluginOutcome) => expect(r.code, r.stdout + r.stderr).toBe(0);

async function bridged(ctr: TestNetns, net: Net = RED): Promise<PluginOutcome> {
  const r = await invoke('bridge', 'ADD', ctr, bridgeConf(net));
  ok(r);
  return r;
}

/** bridge then firewall; returns bridge's result. */
async function attach(ctr: TestNetns, net: Net = RED, extra: object = {}): Promise<PluginOutcome> {
  const bridge = await bridged(ctr, net);
  const fw = await invoke('firewall', 'ADD', ctr, firewallConf(net, bridge.json, extra));
  ok(fw);
  // a chained plugin passes prevResult through
  expect(fw.json).toEqual(bridge.json);
  return bridge;
}

const addressOf = (r: PluginOutcome, family: 4 | 6): string =>
  r.json.ips.map((i: { address: string }) => i.address.split('/')[0]).find((a: string) => (family === 6) === a.includes(':'));

const inHost = (command: string, ...args: string[]) => execFileSync('ip', ['netns', 'exec', host.name, command, ...args], { encoding: 'utf8' });
const saved = (family: 4 | 6) => inHost(family === 4 ? 'iptables-save' : 'ip6tables-save').replace(/^#.*\n/gm, '');

/** What Docker does to a host: forwarded traffic is dropped unless some rule accepts it. */
function dropForwarding(): void {
  inHost('iptables', '-P', 'FORWARD', 'DROP');
  inHost('ip6tables', '-P', 'FORWARD', 'DROP');
}

/** A TCP conversation from the container to a server outside, over IPv4 and IPv6. */
async function reachesOutside(ctr: TestNetns): Promise<[boolean, boolean]> {
  worldServing ??= serve(outside, 'tcp', 7000, 'world');
  await worldServing;
  return [ask(ctr, 'tcp', UPLINK.outside4, 7000) === `world saw ${UPLINK.host4}`, ask(ctr, 'tcp', UPLINK.outside6, 7000) === `world saw ${UPLINK.host6}`];
}

describe('firewall: a host whose FORWARD policy drops', () => {
  it('container traffic to the outside fails without the plugin and passes with it; DEL takes it away again', async () => {
    dropForwarding();
    const ctr = pool.make('c');
    const bridge = await bridged(ctr);
    expect(await reachesOutside(ctr)).toEqual([false, false]);

    const fw = await invoke('firewall', 'ADD', ctr, firewallConf(RED, bridge.json));
    ok(fw);
    expect(fw.json).toEqual(bridge.json);
    expect(await reachesOutside(ctr)).toEqual([true, true]);
    // the reference's chains and rules, so CNI-ADMIN overrides and existing tooling keep working
    const ip4 = addressOf(bridge, 4);
    expect(saved(4)).toContain('-A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD');
    expect(saved(4)).toContain('-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN');
    expect(saved(4)).toContain(`-A CNI-FORWARD -s ${ip4}/32 -j ACCEPT`);
    expect(saved(6)).toContain(`-A CNI-FORWARD -s ${addressOf(bridge, 6)}/128 -j ACCEPT`);
    ok(await invoke('firewall', 'CHECK', ctr, firewallConf(RED, bridge.json)));

    ok(await invoke('firewall', 'DEL', ctr, firewallConf(RED)));
    expect(saved(4)).not.toContain(ip4);
    expect(await reachesOutside(ctr)).toEqual([false, false]);
    ok(await invoke('firewall', 'DEL', ctr, firewallConf(RED)));
    const check = await invoke('firewall', 'CHECK', ctr, firewallConf(RED, bridge.json));
    expect(check.json.code).toBe(140);
    expect(check.json.msg).toContain(`CNI-FORWARD rules for ${ip4}/32`);
  });

  it('CHECK names a rule someone deleted; a second container keeps its rules when the first goes', async () => {
    dropForwarding();
    const a = pool.make('a');
    const b = pool.make('b');
    const ra = await attach(a);
    await attach(b);
    const ipA = addressOf(ra, 4);
    inHost('iptables', '-D', 'CNI-FORWARD', '-s', `${ipA}/32`, '-j', 'ACCEPT');
    const check = await invoke('firewall', 'CHECK', a, firewallConf(RED, ra.json));
    expect(check.json.code).toBe(140);
    expect(check.json.msg).toContain(`iptables CNI-FORWARD rules for ${ipA}/32`);
    ok(await invoke('firewall', 'DEL', a, firewallConf(RED)));
    expect(await reachesOutside(b)).toEqual([true, true]);
  });

  it('uses the configured admin chain', async () => {
    dropForwarding();
    const ctr = pool.make('c');
    await attach(ctr, RED, { iptablesAdminChainName: 'MY-ADMIN' });
    expect(saved(4)).toContain(':MY-ADMIN - [0:0]');
    expect(saved(4)).toContain('-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j MY-ADMIN');
  });

  it('GC removes the rules of attachments not in the valid list and keeps the others', async () => {
    dropForwarding();
    const keep = pool.make('keep');
    const gone = pool.make('gone');
    const rk = await attach(keep);
    const rg = await attach(gone);
    const gc = await execGc('firewall', firewallConf(RED), [`ctr-${keep.name}`], { inNetns: host.name, env: env() });
    ok(gc);
    expect(saved(4)).not.toContain(addressOf(rg, 4));
    expect(saved(4)).toContain(addressOf(rk, 4));
    expect(await reachesOutside(keep)).toEqual([true, true]);
    expect(await reachesOutside(gone)).toEqual([false, false]);
  });
});

describe('firewall: hosts without iptables rules', () => {
  it('writes no iptables rules where iptables has no filter table, unless "backend" is "iptables"', async () => {
    const ctr = pool.make('c');
    await attach(ctr);
    expect(saved(4)).toBe('');
    expect(await reachesOutside(ctr)).toEqual([true, true]);
    const other = pool.make('o');
    const r = await attach(other, RED, { backend: 'iptables' });
    expect(saved(4)).toContain(`-A CNI-FORWARD -s ${addressOf(r, 4)}/32 -j ACCEPT`);
  });
});

describe('firewall: a host whose iptables is the legacy variant', () => {
  /** A PATH on which iptables-save and -restore are iptables-legacy, as `update-alternatives --set iptables iptables-legacy` makes them. */
  function legacyPath(): string {
    const bin = join(dir, 'legacy-bin');
    mkdirSync(bin);
    for (const family of ['iptables', 'ip6tables']) for (const tool of ['save', 'restore']) symlinkSync('/usr/sbin/xtables-legacy-multi', join(bin, `${family}-${tool}`));
    return `${bin}:${process.env.PATH}`;
  }
  const legacySaved = (family: 4 | 6) => inHost(family === 4 ? 'iptables-legacy-save' : 'ip6tables-legacy-save');

  it('finds its filter table and writes the rules there: traffic passes while the legacy FORWARD policy drops', async () => {
    inHost('iptables-legacy', '-P', 'FORWARD', 'DROP');
    inHost('ip6tables-legacy', '-P', 'FORWARD', 'DROP');
    const PATH = legacyPath();
    const ctr = pool.make('c');
    const bridge = await bridged(ctr);
    expect(await reachesOutside(ctr)).toEqual([false, false]);
    ok(await invoke('firewall', 'ADD', ctr, firewallConf(RED, bridge.json), { PATH }));
    expect(legacySaved(4)).toContain(`-A CNI-FORWARD -s ${addressOf(bridge, 4)}/32 -j ACCEPT`);
    expect(legacySaved(6)).toContain(`-A CNI-FORWARD -s ${addressOf(bridge, 6)}/128 -j ACCEPT`);
    expect(saved(4)).toBe('');
    expect(await reachesOutside(ctr)).toEqual([true, true]);
    ok(await invoke('firewall', 'CHECK', ctr, firewallConf(RED, bridge.json), { PATH }));
    ok(await invoke('firewall', 'DEL', ctr, firewallConf(RED), { PATH }));
    expect(legacySaved(4)).not.toContain(addressOf(bridge, 4));
    expect(await reachesOutside(ctr)).toEqual([false, false]);
  });
});

describe('firewall: ingressPolicy', () => {
  it('same-bridge: no forwarding between isolated bridges; the same bridge and the outside still work; the isolation goes with the last container', async () => {
    const red1 = pool.make('r1');
    const red2 = pool.make('r2');
    const blue = pool.make('b');
    const policy = { ingressPolicy: 'same-bridge' };
    const r1 = await attach(red1, RED, policy);
    await attach(red2, RED, policy);
    const b = await attach(blue, BLUE, policy);
    await serve(blue, 'tcp', 7100, 'blue');
    await serve(red1, 'tcp', 7100, 'red1');
    expect(ask(red2, 'tcp', addressOf(b, 4), 7100)).toBeUndefined();
    expect(ask(red2, 'tcp', addressOf(b, 6), 7100)).toBeUndefined();
    expect(ask(red2, 'tcp', addressOf(r1, 4), 7100)).toMatch(/^red1 saw /);
    expect(await reachesOutside(red2)).toEqual([true, true]);
    ok(await invoke('firewall', 'CHECK', red1, firewallConf(RED, r1.json, policy)));

    // red1 goes: red2 is still on the bridge, so the isolation stays
    ok(await invoke('firewall', 'DEL', red1, firewallConf(RED, undefined, policy)));
    expect(ask(red2, 'tcp', addressOf(b, 4), 7100)).toBeUndefined();
    // the last container of the red bridge goes: red is no longer isolated
    ok(await invoke('firewall', 'DEL', red2, firewallConf(RED, undefined, policy)));
    expect(ask(red2, 'tcp', addressOf(b, 4), 7100)).toMatch(/^blue saw /);
  });

  it('isolated: also blocks within the bridge as far as routed, recorded per bridge', async () => {
    const ctr = pool.make('c');
    const r = await attach(ctr, RED, { ingressPolicy: 'isolated' });
    const table = inHost('nft', 'list', 'table', 'inet', 'cni_ts');
    expect(table).toMatch(/set fw_icc_blocked \{[^}]*elements = \{ "cnifw0" \. "cnifw0" \}/);
    ok(await invoke('firewall', 'CHECK', ctr, firewallConf(RED, r.json, { ingressPolicy: 'isolated' })));
    ok(await invoke('firewall', 'DEL', ctr, firewallConf(RED)));
    expect(inHost('nft', 'list', 'table', 'inet', 'cni_ts')).not.toContain('"cnifw0"');
  });
});

describe('firewall: bad input', () => {
  const cases: Array<[string, object, number, string]> = [
    ['unknown backend', { backend: 'pf' }, 7, '"backend"'],
    ['firewalld zone that is no name', { backend: 'firewalld', firewalldZone: 'a/b' }, 7, '"firewalldZone"'],
    ['unknown ingressPolicy', { ingressPolicy: 'closed' }, 7, '"ingressPolicy"'],
    ['admin chain with a space', { iptablesAdminChainName: 'MY ADMIN' }, 7, '"iptablesAdminChainName"'],
    ['admin chain too long', { iptablesAdminChainName: 'X'.repeat(29) }, 7, '"iptablesAdminChainName"'],
  ];
  it.each(cases)('%s: error naming the field, nothing installed', async (_label, extra, code, field) => {
    const ctr = pool.make('c');
    const bridge = await bridged(ctr);
    const r = await invoke('firewall', 'ADD', ctr, firewallConf(RED, bridge.json, extra));
    expect(r.code).not.toBe(0);
    expect(r.json.code).toBe(code);
    expect(r.json.msg).toContain(field);
    expect(saved(4)).toBe('');
  });

  it('refuses to run unchained, and an ingress policy without a bridge in prevResult', async () => {
    const ctr = pool.make('c');
    const alone = await invoke('firewall', 'ADD', ctr, firewallConf(RED));
    expect(alone.json.code).toBe(7);
    expect(alone.json.msg).toContain('prevResult');
    const noBridge = await invoke('firewall', 'ADD', ctr, firewallConf(RED, { cniVersion: '1.0.0', ips: [{ address: '10.46.0.9/24' }] }, { ingressPolicy: 'same-bridge' }));
    expect(noBridge.json.code).toBe(7);
    expect(noBridge.json.msg).toContain('"ingressPolicy"');
  });

  it('STATUS succeeds', async () => {
    ok(await execPlugin('firewall', { command: 'STATUS', stdin: { ...firewallConf(RED), cniVersion: '1.1.0', ingressPolicy: 'same-bridge' }, inNetns: host.name, env: env() }));
  });
});

describe('firewall: firewalld (a real one, in the host namespace on a private bus)', () => {
  const FIREWALLD = { backend: 'firewalld' };
  const onBus = (fw: TestFirewalld) => ({ DBUS_SYSTEM_BUS_ADDRESS: fw.busAddress });
  const sources = (fw: TestFirewalld, zone = 'trusted') => fw.sources(zone);
  const sourcesOf = (r: PluginOutcome) => [`${addressOf(r, 4)}/32`, `${addressOf(r, 6)}/128`].sort();

  /** The reload watcher the cni-ts-firewalld-reload unit runs (systemd/), in the host namespace, on the private bus. */
  function reloadWatcher(fw: TestFirewalld): { log: () => string } {
    const watcher = spawn('ip', ['netns', 'exec', host.name, join(__dirname, '../../systemd/cni-ts-firewalld-reload')], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, ...env(), ...onBus(fw) },
    });
    let log = '';
    watcher.stdout!.on('data', (c) => (log += c));
    watcher.stderr!.on('data', (c) => (log += c));
    onNetnsDelete(host.name, () => killGroup(watcher));
    return { log: () => log };
  }

  it('container traffic passes its forward chain once the address is a source of the zone; CHECK, a --reload with the reapply unit, DEL', async () => {
    const fw = await startFirewalld(host, dir);
    const ctr = pool.make('c');
    const bridge = await bridged(ctr);
    // the default zone (public) rejects forwarded traffic
    expect(await reachesOutside(ctr)).toEqual([false, false]);

    const add = await invoke('firewall', 'ADD', ctr, firewallConf(RED, bridge.json, FIREWALLD), onBus(fw));
    ok(add);
    expect(add.json).toEqual(bridge.json);
    expect(sources(fw)).toEqual(sourcesOf(bridge));
    expect(saved(4)).toBe('');
    expect(await reachesOutside(ctr)).toEqual([true, true]);
    ok(await invoke('firewall', 'CHECK', ctr, firewallConf(RED, bridge.json, FIREWALLD), onBus(fw)));

    // someone removes the source: CHECK names it
    fw.cmd('--zone=trusted', `--remove-source=${addressOf(bridge, 4)}/32`);
    const check = await invoke('firewall', 'CHECK', ctr, firewallConf(RED, bridge.json, FIREWALLD), onBus(fw));
    expect(check.json.code).toBe(140);
    expect(check.json.msg).toContain(`source ${addressOf(bridge, 4)}/32 in firewalld zone "trusted"`);

    // the unit re-applies when it starts (with firewalld), and after each reload, which drops runtime sources
    const watcher = reloadWatcher(fw);
    await until('the first re-apply', () => sources(fw).length === 2, 15_000, { output: watcher.log });
    fw.cmd('--reload');
    await until('the re-apply after --reload', () => (watcher.log().match(/firewalld reloaded: running cni-ts-reapply/g) ?? []).length === 1, 15_000, { output: watcher.log });
    await until('the sources back', () => sources(fw).join() === sourcesOf(bridge).join(), 15_000, { output: watcher.log });
    expect(await reachesOutside(ctr)).toEqual([true, true]);
    ok(await invoke('firewall', 'CHECK', ctr, firewallConf(RED, bridge.json, FIREWALLD), onBus(fw)));
    expect(watcher.log()).not.toContain('failed');

    // a repeated ADD finds its sources there; one with another zone moves them
    ok(await invoke('firewall', 'ADD', ctr, firewallConf(RED, bridge.json, FIREWALLD), onBus(fw)));
    ok(await invoke('firewall', 'ADD', ctr, firewallConf(RED, bridge.json, { ...FIREWALLD, firewalldZone: 'internal' }), onBus(fw)));
    expect(sources(fw)).toEqual([]);
    expect(sources(fw, 'internal')).toEqual(sourcesOf(bridge));

    // someone removed one source already: DEL removes the other and succeeds
    fw.cmd('--zone=internal', `--remove-source=${addressOf(bridge, 4)}/32`);
    ok(await invoke('firewall', 'DEL', ctr, firewallConf(RED), onBus(fw)));
    expect(sources(fw, 'internal')).toEqual([]);
    expect(await reachesOutside(ctr)).toEqual([false, false]);
    ok(await invoke('firewall', 'DEL', ctr, firewallConf(RED), onBus(fw)));
  });

  it('with no "backend", firewalld is used when it runs (no iptables rules); once it is gone, DEL still succeeds and "firewalld" is 50', async () => {
    dropForwarding();
    const fw = await startFirewalld(host, dir);
    const ctr = pool.make('c');
    const bridge = await bridged(ctr);
    ok(await invoke('firewall', 'ADD', ctr, firewallConf(RED, bridge.json, { firewalldZone: 'internal' }), onBus(fw)));
    expect(sources(fw, 'internal')).toEqual(sourcesOf(bridge));
    expect(saved(4)).not.toContain(addressOf(bridge, 4));

    fw.stop();
    // the sources went with firewalld: CHECK says so, though the default backend would now install
    // nothing (no iptables filter table any more)
    inHost('nft', 'delete', 'table', 'ip', 'filter');
    inHost('nft', 'delete', 'table', 'ip6', 'filter');
    const check = await invoke('firewall', 'CHECK', ctr, firewallConf(RED, bridge.json, { firewalldZone: 'internal' }), onBus(fw));
    expect(check.json.code).toBe(140);
    expect(check.json.msg).toContain(`source ${addressOf(bridge, 4)}/32 in firewalld zone "internal"`);
    ok(await invoke('firewall', 'DEL', ctr, firewallConf(RED), onBus(fw)));
    const other = pool.make('o');
    const r = await bridged(other);
    const refused = await invoke('firewall', 'ADD', other, firewallConf(RED, r.json, FIREWALLD), onBus(fw));
    expect(refused.json.code).toBe(50);
    expect(refused.json.msg).toContain('firewalld is not running');
    const status = await execPlugin('firewall', {
      command: 'STATUS',
      stdin: { ...firewallConf(RED), ...FIREWALLD, cniVersion: '1.1.0' },
      inNetns: host.name,
      env: { ...env(), ...onBus(fw) },
    });
    expect(status.json.code).toBe(50);
    // and without firewalld the default is the iptables rules again, where a filter table exists
    dropForwarding();
    ok(await invoke('firewall', 'ADD', other, firewallConf(RED, r.json), onBus(fw)));
    expect(saved(4)).toContain(`-A CNI-FORWARD -s ${addressOf(r, 4)}/32 -j ACCEPT`);
  });

  it('a source bound to another zone fails ADD with 132 naming it and leaves nothing; an unknown zone is 7', async () => {
    const fw = await startFirewalld(host, dir);
    const ctr = pool.make('c');
    const bridge = await bridged(ctr);
    // the IPv6 address is the second: the IPv4 one is added first and must go again
    fw.cmd('--zone=internal', `--add-source=${addressOf(bridge, 6)}/128`);
    const conflict = await invoke('firewall', 'ADD', ctr, firewallConf(RED, bridge.json, FIREWALLD), onBus(fw));
    expect(conflict.json.code).toBe(132);
    expect(conflict.json.msg).toContain(`${addressOf(bridge, 6)}/128 is bound to zone "internal"`);
    expect(sources(fw)).toEqual([]);
    expect(sources(fw, 'internal')).toEqual([`${addressOf(bridge, 6)}/128`]);
    expect(readdirIfExists(join(dir, 'state', 'firewall', 'attachments', RED.name))).toEqual([]);

    const unknown = await invoke('firewall', 'ADD', ctr, firewallConf(RED, bridge.json, { ...FIREWALLD, firewalldZone: 'nosuchzone' }), onBus(fw));
    expect(unknown.json.code).toBe(7);
    expect(unknown.json.msg).toContain('"firewalldZone"');
    expect(sources(fw)).toEqual([]);
    ok(await invoke('firewall', 'DEL', ctr, firewallConf(RED), onBus(fw)));
    expect(sources(fw, 'internal')).toEqual([`${addressOf(bridge, 6)}/128`]);
  });

  it("binds the same sources to the same zone as the reference's firewall, and DEL takes them away as the reference's does", async () => {
    const fw = await startFirewalld(host, dir);
    const ctr = pool.make('c');
    const bridge = await bridged(ctr);
    const conf = firewallConf(RED, bridge.json, { ...FIREWALLD, firewalldZone: 'internal' });
    const reference = (command: string) =>
      execPlugin('/usr/lib/cni/firewall', {
        command,
        containerId: `ctr-${ctr.name}`,
        netns: ctr.path,
        ifname: 'eth0',
        stdin: conf,
        inNetns: host.name,
        env: { ...env(), ...onBus(fw) },
      });
    ok(await reference('ADD'));
    const theirs = sources(fw, 'internal');
    ok(await reference('DEL'));
    expect(sources(fw, 'internal')).toEqual([]);
    ok(await invoke('firewall', 'ADD', ctr, conf, onBus(fw)));
    expect(sources(fw, 'internal')).toEqual(theirs);
    expect(theirs).toEqual(sourcesOf(bridge));
    ok(await invoke('firewall', 'DEL', ctr, conf, onBus(fw)));
    expect(sources(fw, 'internal')).toEqual([]);
  });

  it('GC removes the sources of attachments not in the valid list and keeps the others', async () => {
    const fw = await startFirewalld(host, dir);
    const keep = pool.make('keep');
    const gone = pool.make('gone');
    const rk = await bridged(keep);
    const rg = await bridged(gone);
    ok(await invoke('firewall', 'ADD', keep, firewallConf(RED, rk.json, FIREWALLD), onBus(fw)));
    ok(await invoke('firewall', 'ADD', gone, firewallConf(RED, rg.json, FIREWALLD), onBus(fw)));
    ok(await execGc('firewall', firewallConf(RED), [`ctr-${keep.name}`], { inNetns: host.name, env: { ...env(), ...onBus(fw) } }));
    expect(sources(fw)).toEqual(sourcesOf(rk));
    expect(await reachesOutside(keep)).toEqual([true, true]);
    expect(await reachesOutside(gone)).toEqual([false, false]);
  });
});
