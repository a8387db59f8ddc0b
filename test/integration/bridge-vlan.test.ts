import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execPlugin, type PluginInvocation } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { pings } from '../helpers/topology';

// portIsolation here; the VLAN fields need a kernel with bridge VLAN filtering, which this machine's
// lacks: they are tested in the kernel lab (test/lab/bridge-vlan.lab.mjs), and here only that ADD
// refuses them cleanly on such a kernel.

let dir: string;
let host: TestNetns;
const pool = useNodeFixture('cnit-brvl-', (node) => ({ dir, host } = node));

function conf(extra: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.0.0',
    name: 'vlnet',
    type: 'bridge',
    bridge: 'cnivl0',
    isGateway: true,
    ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.47.0.0/24' }]] },
    ...extra,
  };
}

const run = (command: string, ctr: TestNetns, stdin: object, inv: PluginInvocation = {}) =>
  execPlugin('bridge', {
    command,
    containerId: `ctr-${ctr.name}`,
    netns: ctr.path,
    ifname: 'eth0',
    stdin,
    inNetns: host.name,
    env: { CNI_TS_STATE_DIR: join(dir, 'state') },
    ...inv,
  });

type IpLink = { ifname: string; master?: string; linkinfo?: { info_kind?: string; info_slave_data?: { isolated?: boolean } } };
const hostLinks = () => host.ipJson<IpLink[]>('-d', 'link', 'show').filter((l) => l.ifname !== 'lo' && l.ifname !== 'uplink0');
const isolated = (veth: string) => host.ipJson<IpLink[]>('-d', 'link', 'show', 'dev', veth)[0].linkinfo?.info_slave_data?.isolated;
const ipamFiles = () => (existsSync(join(dir, 'ipam', 'vlnet')) ? readdirSync(join(dir, 'ipam', 'vlnet')).filter((f) => /^[0-9.]+$/.test(f)) : []);
const addressOf = (r: { json: { ips: Array<{ address: string }> } }) => r.json.ips[0].address.split('/')[0];

/** Whether this kernel can make a bridge with VLAN filtering (tried in a throw-away namespace). */
function kernelHasVlanFiltering(): boolean {
  try {
    execFileSync('ip', ['-n', host.name, 'link', 'add', 'cnivlprobe', 'type', 'bridge', 'vlan_filtering', '1'], { stdio: 'ignore' });
    execFileSync('ip', ['-n', host.name, 'link', 'del', 'cnivlprobe'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('bridge portIsolation', () => {
  it('isolated containers reach the gateway but not each other; without it they do; ip -d link shows isolated on', async () => {
    const a = pool.make('c');
    const b = pool.make('c');
    const ra = await run('ADD', a, conf({ portIsolation: true }));
    const rb = await run('ADD', b, conf({ portIsolation: true }));
    expect(ra.code, ra.stdout + ra.stderr).toBe(0);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(isolated(ra.json.interfaces[1].name)).toBe(true);
    expect(host.exec('ip', ['-d', 'link', 'show', rb.json.interfaces[1].name])).toContain('isolated on');
    expect(pings(a, '10.47.0.1')).toBe(true);
    expect(pings(b, '10.47.0.1')).toBe(true);
    expect(pings(a, addressOf(rb))).toBe(false);
    expect(pings(b, addressOf(ra))).toBe(false);

    // a port that is not isolated reaches both, and both reach it: isolation is between isolated ports only
    const c = pool.make('c');
    const rc = await run('ADD', c, conf());
    expect(rc.code, rc.stdout + rc.stderr).toBe(0);
    expect(isolated(rc.json.interfaces[1].name)).toBe(false);
    expect(pings(c, addressOf(ra))).toBe(true);
    expect(pings(b, addressOf(rc))).toBe(true);
  });

  it('without portIsolation two containers reach each other', async () => {
    const a = pool.make('c');
    const b = pool.make('c');
    const ra = await run('ADD', a, conf());
    const rb = await run('ADD', b, conf());
    expect(pings(a, addressOf(rb))).toBe(true);
    expect(host.exec('ip', ['-d', 'link', 'show', ra.json.interfaces[1].name])).toContain('isolated off');
  });

  it('CHECK passes, and fails once the port is no longer isolated (and the other way round); DEL leaves nothing of the container', async () => {
    const a = pool.make('c');
    const iso = conf({ portIsolation: true });
    const add = await run('ADD', a, iso);
    const veth = add.json.interfaces[1].name;
    expect((await run('CHECK', a, { ...iso, prevResult: add.json })).code).toBe(0);
    // CHECK compares with what ADD installs: an isolated port under a config without portIsolation fails too
    const plain = await run('CHECK', a, { ...conf(), prevResult: add.json });
    expect(plain.json).toMatchObject({ code: 140 });
    expect(plain.json.msg).toContain(`bridge port "${veth}" is isolated, and portIsolation is false`);
    host.exec('bridge', ['link', 'set', 'dev', veth, 'isolated', 'off']);
    const bad = await run('CHECK', a, { ...iso, prevResult: add.json });
    expect(bad.json).toMatchObject({ code: 140 });
    expect(bad.json.msg).toContain(`bridge port "${veth}" is not isolated, and portIsolation is true`);

    expect((await run('DEL', a, iso)).code).toBe(0);
    expect(hostLinks().map((l) => l.ifname)).toEqual(['cnivl0']);
    expect(a.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(ipamFiles()).toEqual([]);
  });

  it('DEL never refuses the VLAN fields, valid or not', async () => {
    const a = pool.make('c');
    const add = await run('ADD', a, conf({ portIsolation: true }));
    expect(add.code).toBe(0);
    const hostile = conf({ vlan: 5000, vlanTrunk: [{ minID: 9, maxID: 2 }, 'x'], preserveDefaultVlan: 'no', portIsolation: 1 });
    expect((await run('DEL', a, hostile)).code).toBe(0);
    expect((await run('DEL', a, hostile)).code).toBe(0);
    expect(hostLinks().map((l) => l.ifname)).toEqual(['cnivl0']);
    expect(ipamFiles()).toEqual([]);
  });
});

describe('bridge VLANs on a kernel without bridge VLAN filtering', () => {
  it('ADD fails with 110 naming the fields and leaves nothing: no bridge, no veth, no address', async (ctx) => {
    if (kernelHasVlanFiltering()) ctx.skip();
    const a = pool.make('c');
    for (const extra of [{ vlan: 100 }, { vlanTrunk: [{ id: 5 }] }, { vlanTrunk: [] }]) {
      const r = await run('ADD', a, conf(extra));
      expect(r.json, JSON.stringify(extra)).toMatchObject({ code: 110 });
      expect(r.json.msg).toContain('cannot create bridge "cnivl0" with VLAN filtering ("vlan", "vlanTrunk"): this kernel has no bridge VLAN filtering');
      expect(hostLinks()).toEqual([]);
      expect(a.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
      expect(ipamFiles()).toEqual([]);
    }
  });

  it('on an existing bridge, ADD fails when setting the port VLAN, and the bridge keeps no port of it', async (ctx) => {
    if (kernelHasVlanFiltering()) ctx.skip();
    host.exec('ip', ['link', 'add', 'cnivl0', 'type', 'bridge']);
    const a = pool.make('c');
    const r = await run('ADD', a, conf({ vlan: 100 }));
    expect(r.json).toMatchObject({ code: 110 });
    expect(r.json.msg).toContain('("vlan", "vlanTrunk"): this kernel has no bridge VLAN filtering');
    expect(hostLinks().map((l) => l.ifname)).toEqual(['cnivl0']);
    expect(a.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(ipamFiles()).toEqual([]);
    // vlan 0, an empty trunk absent: the same bridge works
    expect((await run('ADD', a, conf({ vlan: 0 }))).code).toBe(0);
  });
});
