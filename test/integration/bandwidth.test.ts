import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execGc, execPlugin, type PluginOutcome } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { expectNear, mbit, measure, threeSecondsAt } from '../helpers/measure-throughput';
import { UPLINK, pings } from '../helpers/topology';

let dir: string;
let host: TestNetns;
const pool = useNodeFixture('cnit-bw-', (node) => ({ dir, host } = node));

const NET = 'bwnet';
const GATEWAY = '10.47.0.1';
const REFERENCE = '/usr/lib/cni/bandwidth';
/** A few Mbit/s with small buckets (the kubelet's default burst is 4 GiB, which would hide the rate for seconds). */
const LIMITS = { ingressRate: 4_000_000, ingressBurst: 80_000, egressRate: 3_000_000, egressBurst: 80_000 };

const bridgeConf = (cniVersion = '1.1.0') => ({
  cniVersion,
  name: NET,
  type: 'bridge',
  bridge: 'cnibw0',
  isGateway: true,
  isDefaultGateway: true,
  ipMasq: true,
  ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.47.0.0/24' }], [{ subnet: 'fd47::/64' }]] },
});
const bandwidthConf = (fields: object, prevResult?: object, cniVersion = '1.1.0') => ({
  cniVersion,
  name: NET,
  type: 'bandwidth',
  ...fields,
  ...(prevResult ? { prevResult } : {}),
});

const env = () => ({ CNI_TS_STATE_DIR: join(dir, 'state') });
const run = (plugin: string, command: string, ctr: TestNetns, stdin: object, containerId = `ctr-${ctr.name}`) =>
  execPlugin(plugin, { command, containerId, netns: ctr.path, ifname: 'eth0', stdin, inNetns: host.name, env: env() });
const ok = (r: PluginOutcome) => expect(r.code, r.stdout + r.stderr).toBe(0);

/** bridge, then bandwidth (ours or the reference's) with bridge's result, as a runtime runs the conflist. */
async function attach(ctr: TestNetns, fields: object, plugin = 'bandwidth', cniVersion = '1.1.0', containerId?: string) {
  const bridge = await run('bridge', 'ADD', ctr, bridgeConf(cniVersion), containerId);
  ok(bridge);
  const bw = await run(plugin, 'ADD', ctr, bandwidthConf(fields, bridge.json, cniVersion), containerId);
  ok(bw);
  const hostVeth: string = bridge.json.interfaces.find((i: { name: string; sandbox?: string }) => !i.sandbox && i.name !== 'cnibw0').name;
  const ip: string = bridge.json.ips.find((i: { address: string }) => !i.address.includes(':')).address.split('/')[0];
  return { bridge: bridge.json, result: bw.json, hostVeth, ip };
}

interface TcQdisc {
  kind: string;
  handle: string;
  dev: string;
  root?: boolean;
  parent?: string;
  options?: { rate?: number; burst?: number; lat?: number; limit?: number; default?: string };
}
const qdiscs = (): TcQdisc[] => JSON.parse(host.exec('tc', ['-j', '-s', 'qdisc', 'show']));
/** Our qdiscs: everything but the kernel's defaults (noqueue and the like have handle 0:). */
const shapedBy = (dev: string) => qdiscs().filter((q) => q.dev === dev && q.handle !== '0:');
const links = (): Array<{ ifname: string; link_type?: string; linkinfo?: { info_kind?: string } }> => host.ipJson('-d', 'link', 'show');
const ifbs = () =>
  links()
    .filter((l) => l.linkinfo?.info_kind === 'ifb')
    .map((l) => l.ifname);

// ---------------------------------------------------------------- traffic

describe('bandwidth', () => {
  it('shapes both directions with tbf on the host veth and on an ifb, and real TCP transfers run at the limits while an unshaped container runs far faster', async () => {
    const ctr = pool.make('bw');
    const free = pool.make('free');
    const a = await attach(ctr, LIMITS);
    const ifb = a.result.interfaces.at(-1);
    expect(ifb).toEqual({ name: expect.stringMatching(/^bwp[0-9a-f]{12}$/), mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) });
    expect(a.result.interfaces.slice(0, -1)).toEqual(a.bridge.interfaces);
    expect(a.result.ips).toEqual(a.bridge.ips);

    expect(shapedBy(a.hostVeth).map((q) => [q.kind, q.handle, q.options])).toEqual([
      ['tbf', '1:', { rate: 500_000, burst: 10_000, lat: 25_000 }],
      ['ingress', 'ffff:', {}],
    ]);
    // 10000 bytes at 375000 bytes/s: the reference's truncations (µs, then ticks) make it 9999
    expect(shapedBy(ifb.name).map((q) => [q.kind, q.handle, q.root, q.options])).toEqual([['tbf', '1:', true, { rate: 375_000, burst: 9_999, lat: 25_001 }]]);
    ok(await run('bandwidth', 'CHECK', ctr, bandwidthConf(LIMITS, a.result)));

    const b = await attach(free, {}); // no limits: bandwidth passes bridge's result through and adds nothing
    expect(b.result).toEqual(b.bridge);
    expect(shapedBy(b.hostVeth)).toEqual([]);

    const toContainer = await measure(host, ctr, a.ip, threeSecondsAt(LIMITS.ingressRate));
    const fromContainer = await measure(ctr, host, GATEWAY, threeSecondsAt(LIMITS.egressRate));
    const unshapedTo = await measure(host, free, b.ip, 40_000_000);
    const unshapedFrom = await measure(free, host, GATEWAY, 40_000_000);
    console.log(
      `bandwidth: to the container ${mbit(toContainer)} (limit ${mbit(LIMITS.ingressRate)}), from it ${mbit(fromContainer)} (limit ${mbit(LIMITS.egressRate)}); unshaped ${mbit(unshapedTo)} / ${mbit(unshapedFrom)}`,
    );
    expectNear(toContainer, LIMITS.ingressRate);
    expectNear(fromContainer, LIMITS.egressRate);
    expect(unshapedTo).toBeGreaterThan(LIMITS.ingressRate * 10);
    expect(unshapedFrom).toBeGreaterThan(LIMITS.egressRate * 10);
  });

  it('with unshapedSubnets, traffic with those subnets bypasses the limit (HTB classes and u32 filters) and the rest is shaped', async () => {
    const ctr = pool.make('bws');
    const fields = { ...LIMITS, unshapedSubnets: ['198.51.100.0/24'] };
    const a = await attach(ctr, fields);
    const ifb = a.result.interfaces.at(-1).name;
    for (const dev of [a.hostVeth, ifb]) {
      const kinds = shapedBy(dev).map((q) => `${q.kind} ${q.handle}${q.parent ? ` under ${q.parent}` : ''}`);
      expect(kinds).toEqual(expect.arrayContaining(['htb 1:', 'bfifo 30: under 1:30', 'pfifo 2: under 1:1']));
      expect(shapedBy(dev).find((q) => q.kind === 'htb')?.options?.default).toBe('0x30');
    }
    // the far end is matched: the source of traffic to the container, the destination of traffic from it
    expect(host.exec('tc', ['filter', 'show', 'dev', a.hostVeth])).toContain('match c6336400/ffffff00 at 12');
    expect(host.exec('tc', ['filter', 'show', 'dev', ifb])).toContain('match c6336400/ffffff00 at 16');
    ok(await run('bandwidth', 'CHECK', ctr, bandwidthConf(fields, a.result)));

    const shapedTo = await measure(host, ctr, a.ip, threeSecondsAt(LIMITS.ingressRate));
    const shapedFrom = await measure(ctr, host, GATEWAY, threeSecondsAt(LIMITS.egressRate));
    const unshapedTo = await measure(host, ctr, a.ip, 40_000_000, UPLINK.host4);
    const unshapedFrom = await measure(ctr, host, UPLINK.host4, 40_000_000);
    console.log(`bandwidth with unshapedSubnets: shaped ${mbit(shapedTo)} / ${mbit(shapedFrom)}, with ${UPLINK.host4} ${mbit(unshapedTo)} / ${mbit(unshapedFrom)}`);
    expectNear(shapedTo, LIMITS.ingressRate);
    expectNear(shapedFrom, LIMITS.egressRate);
    expect(unshapedTo).toBeGreaterThan(LIMITS.ingressRate * 10);
    expect(unshapedFrom).toBeGreaterThan(LIMITS.egressRate * 10);

    // a filter gone is a CHECK failure
    host.exec('tc', ['filter', 'del', 'dev', ifb, 'parent', '1:', 'prio', '16']);
    const check = await run('bandwidth', 'CHECK', ctr, bandwidthConf(fields, a.result));
    expect(check.json).toMatchObject({ code: 140, msg: expect.stringContaining(`${ifb}: no u32 filter sends c6336400/ffffff00 at 16 to class 1:1`) });
  });

  it('CHECK fails with 140 once a qdisc is deleted, naming it; passes for a config without limits', async () => {
    const ctr = pool.make('bwc');
    const a = await attach(ctr, LIMITS);
    const ifb = a.result.interfaces.at(-1).name;
    ok(await run('bandwidth', 'CHECK', ctr, bandwidthConf({}, a.result)));
    host.exec('tc', ['qdisc', 'del', 'dev', ifb, 'root']);
    const noTbf = await run('bandwidth', 'CHECK', ctr, bandwidthConf(LIMITS, a.result));
    expect(noTbf.json).toMatchObject({ code: 140, msg: expect.stringContaining(`${ifb} root qdisc is the kernel's default`) });
    host.exec('tc', ['qdisc', 'del', 'dev', a.hostVeth, 'ingress']);
    host.exec('tc', ['qdisc', 'replace', 'dev', a.hostVeth, 'root', 'handle', '1:', 'tbf', 'rate', '1mbit', 'burst', '10kb', 'latency', '25ms']);
    const drift = await run('bandwidth', 'CHECK', ctr, bandwidthConf(LIMITS, a.result));
    expect(drift.json.code).toBe(140);
    expect(drift.json.msg).toContain(`${a.hostVeth} root qdisc: rate (bytes/s) is 125000, expected 500000`);
    expect(drift.json.msg).toContain(`${a.hostVeth} has no ingress qdisc ffff:`);
    // the reference's CHECK would panic here; ours passes
    ok(await run('bandwidth', 'CHECK', ctr, bandwidthConf({ runtimeConfig: { bandwidth: null } }, a.result)));
  });

  it('CHECK fails when the ifb is down: every packet from the container is redirected to it and dropped', async () => {
    const ctr = pool.make('bwi');
    const a = await attach(ctr, LIMITS);
    const ifb = a.result.interfaces.at(-1).name;
    expect(pings(ctr, GATEWAY)).toBe(true);
    host.exec('ip', ['link', 'set', ifb, 'down']);
    expect(pings(ctr, GATEWAY)).toBe(false);
    const check = await run('bandwidth', 'CHECK', ctr, bandwidthConf(LIMITS, a.result));
    expect(check.json).toMatchObject({ code: 140, msg: `ifb ${JSON.stringify(ifb)} is down` });
  });

  it('DEL removes the ifb and the qdiscs, also when the container namespace is already gone, and is idempotent', async () => {
    const ctr = pool.make('bwd');
    const gone = pool.make('bwg');
    const a = await attach(ctr, LIMITS);
    const g = await attach(gone, LIMITS);
    const [ifbA, ifbG] = [a.result.interfaces.at(-1).name, g.result.interfaces.at(-1).name];
    expect(ifbs().sort()).toEqual([ifbA, ifbG].sort());

    ok(await run('bandwidth', 'DEL', ctr, bandwidthConf(LIMITS, a.result)));
    expect(ifbs()).toEqual([ifbG]);
    expect(shapedBy(a.hostVeth)).toEqual([]); // the veth is still there (bridge's DEL comes next), its qdiscs are gone
    ok(await run('bandwidth', 'DEL', ctr, bandwidthConf(LIMITS, a.result)));

    gone.destroy(); // the runtime lost the namespace: its veth went with it, the ifb in the host did not
    expect(ifbs()).toEqual([ifbG]);
    const del = await execPlugin('bandwidth', {
      command: 'DEL',
      containerId: `ctr-${gone.name}`,
      netns: '',
      ifname: 'eth0',
      stdin: bandwidthConf(LIMITS),
      inNetns: host.name,
      env: env(),
    });
    ok(del);
    expect(ifbs()).toEqual([]);
    expect(readdirSync(join(dir, 'state', 'bandwidth', 'attachments', NET))).toEqual([]);
  });

  it('DEL never refuses a config ADD refused, and a refused ADD leaves nothing behind', async () => {
    const ctr = pool.make('bwr');
    const bridge = await run('bridge', 'ADD', ctr, bridgeConf());
    ok(bridge);
    const bad = { ingressRate: 1000, egressRate: 'fast', shapedSubnets: ['x'], unshapedSubnets: 3 };
    const add = await run('bandwidth', 'ADD', ctr, bandwidthConf(bad, bridge.json));
    expect(add.json).toMatchObject({ code: 7, msg: expect.stringContaining('"egressRate"') });
    expect(qdiscs().filter((q) => q.handle !== '0:')).toEqual([]);
    expect(ifbs()).toEqual([]);
    ok(await run('bandwidth', 'DEL', ctr, bandwidthConf(bad, bridge.json)));

    const unchained = await run('bandwidth', 'ADD', ctr, bandwidthConf(LIMITS));
    expect(unchained.json).toMatchObject({ code: 7, msg: expect.stringContaining('prevResult') });

    // a failure half-way (the root qdisc is taken) unwinds: no ifb, no record, no ingress qdisc
    const veth = bridge.json.interfaces.find((i: { name: string; sandbox?: string }) => !i.sandbox && i.name !== 'cnibw0').name;
    host.exec('tc', ['qdisc', 'add', 'dev', veth, 'root', 'handle', '1:', 'pfifo']);
    const taken = await run('bandwidth', 'ADD', ctr, bandwidthConf(LIMITS, bridge.json));
    expect(taken.json).toMatchObject({ code: 110, msg: expect.stringContaining(`cannot shape traffic to the container on "${veth}"`) });
    expect(ifbs()).toEqual([]);
    expect(shapedBy(veth).map((q) => q.kind)).toEqual(['pfifo']);
    const attachments = join(dir, 'state', 'bandwidth', 'attachments', NET);
    expect(existsSync(attachments) ? readdirSync(attachments) : []).toEqual([]);
  });

  it('GC removes the ifbs of attachments that are not in cni.dev/valid-attachments', async () => {
    const keep = pool.make('bwk');
    const stale = pool.make('bwx');
    const k = await attach(keep, LIMITS);
    const s = await attach(stale, LIMITS);
    const [ifbK, ifbS] = [k.result.interfaces.at(-1).name, s.result.interfaces.at(-1).name];
    const gc = await execGc('bandwidth', bandwidthConf({}), [`ctr-${keep.name}`], { inNetns: host.name, env: env() });
    ok(gc);
    expect(ifbs()).toEqual([ifbK]);
    expect(shapedBy(s.hostVeth)).toEqual([]);
    expect(shapedBy(k.hostVeth).map((q) => q.kind)).toEqual(['tbf', 'ingress']);
    ok(await run('bandwidth', 'CHECK', keep, bandwidthConf(LIMITS, k.result)));
    expect(ifbS).not.toBe(ifbK);
    ok(await run('bandwidth', 'STATUS', keep, bandwidthConf({})));
  });

  describe('side by side with the reference plugin', () => {
    /**
     * What a node shows after bridge + a bandwidth plugin, for one container id: the qdiscs by the
     * role of their link, the redirect filter, the ifb's name, and what the plugin added to bridge's
     * result (bridge makes a new veth each time, so the results themselves differ in names and MACs).
     */
    async function snapshot(plugin: string, ctr: TestNetns, fields: object) {
      const a = await attach(ctr, fields, plugin, '1.0.0', 'ctr-side-by-side');
      const added = a.result.interfaces.slice(a.bridge.interfaces.length);
      const ifb: string | undefined = added[0]?.name;
      const role = (dev: string) => (dev === a.hostVeth ? 'host veth' : dev === ifb ? 'ifb' : dev);
      const shaped = qdiscs()
        .filter((q) => q.handle !== '0:')
        .map((q) => ({ dev: role(q.dev), kind: q.kind, handle: q.handle, parent: q.parent, root: q.root, options: q.options }));
      const filters = ifb ? host.exec('tc', ['filter', 'show', 'dev', a.hostVeth, 'ingress']).replaceAll(ifb, 'IFB') : '';
      const passedThrough = { ...a.result, interfaces: a.result.interfaces.slice(0, a.bridge.interfaces.length) };
      // either suite's CHECK accepts what either suite's ADD did, and either DEL removes it: a host can switch
      const other = plugin === REFERENCE ? 'bandwidth' : REFERENCE;
      for (const checker of [plugin, other]) ok(await run(checker, 'CHECK', ctr, bandwidthConf(fields, a.result, '1.0.0'), 'ctr-side-by-side'));
      ok(await run(other, 'DEL', ctr, bandwidthConf(fields, a.result, '1.0.0'), 'ctr-side-by-side'));
      ok(await run('bridge', 'DEL', ctr, bridgeConf('1.0.0'), 'ctr-side-by-side'));
      expect(ifbs()).toEqual([]);
      return {
        shaped,
        filters,
        ifb,
        added: added.map((i: { name: string; mac?: string; sandbox?: string }) => ({ ...i, mac: i.mac?.replace(/[0-9a-f]/g, 'x') })),
        // bridge's result comes back unchanged (the reference adds an empty "dns": {})
        unchanged: expect.objectContaining(a.bridge).asymmetricMatch(passedThrough) && Object.keys(passedThrough).every((k) => k in a.bridge || k === 'dns'),
      };
    }

    it.each([
      ['small buckets', LIMITS],
      ["containerd's 4 Gbit bursts", { ingressRate: 1_000_000, ingressBurst: 0xffffffff, egressRate: 2_000_000, egressBurst: 0xffffffff }],
      ['the bandwidth capability', { capabilities: { bandwidth: true }, runtimeConfig: { bandwidth: { egressRate: 5_000_000, egressBurst: 50_000 } } }],
      [
        "containerd's capability as go-cni writes it (Go field names)",
        { capabilities: { bandwidth: true }, runtimeConfig: { bandwidth: { IngressRate: 2_000_000, IngressBurst: 0xffffffff, EgressRate: 3_000_000, EgressBurst: 0xffffffff } } },
      ],
    ])('%s: same qdiscs (kind, rate, burst, latency), same redirect filter, same ifb name, same result; CHECK and DEL work across suites', async (_what, fields) => {
      const ctr = pool.make('bwref');
      const theirs = await snapshot(REFERENCE, ctr, fields);
      const ours = await snapshot('bandwidth', ctr, fields);
      expect(ours.shaped.length).toBeGreaterThan(0);
      expect(ours.unchanged).toBe(true);
      expect(ours).toEqual(theirs);
    });
  });
});
