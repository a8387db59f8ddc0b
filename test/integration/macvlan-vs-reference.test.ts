import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_DIR, execPlugin } from '../helpers/exec-plugin';
import { linkState, resultShape, routeTable } from '../helpers/kernel-state';
import { addLanNic, useLanFixture } from '../helpers/lan';
import type { TestNetns } from '../helpers/netns';
import { pings } from '../helpers/topology';
import { reservedAddresses } from '../helpers/host-local-store';

const REFERENCE_DIR = '/usr/lib/cni';

let dir: string;
let host: TestNetns;
let lan: TestNetns;
const pool = useLanFixture('cnit-mvref-', (f) => ({ dir, host, lan } = f));

const dualStack = () => ({
  cniVersion: '1.0.0',
  name: 'mvcmp',
  type: 'macvlan',
  master: 'phys0',
  ipam: {
    type: 'host-local',
    dataDir: join(dir, 'ipam'),
    ranges: [[{ subnet: '10.84.0.0/24', rangeStart: '10.84.0.10', gateway: '10.84.0.1' }], [{ subnet: 'fd84::/64', gateway: 'fd84::1' }]],
    routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }, { dst: '10.200.0.0/16', gw: '10.84.0.7' }],
  },
  dns: { nameservers: ['10.84.0.1'], search: ['lan.example'] },
});

const invoke = (pluginDir: string, command: string, ctr: TestNetns, stdin: object) =>
  execPlugin(join(pluginDir, 'macvlan'), {
    command,
    containerId: `cmp-${ctr.name}`,
    netns: ctr.path,
    ifname: 'eth0',
    path: pluginDir,
    stdin,
    inNetns: host.name,
    env: { CNI_TS_STATE_DIR: join(dir, 'state') },
  });

const reservations = () => reservedAddresses(join(dir, 'ipam'), 'mvcmp');

/**
 * One ADD by `pluginDir` into a fresh container, then its DEL: the result, what the container held
 * and what it reached. Each side has its own IPAM store, so both get the same addresses.
 */
async function observe(pluginDir: string, base: Record<string, unknown>) {
  const conf = base.ipam ? { ...base, ipam: { ...(base.ipam as object), dataDir: join(dir, pluginDir === BIN_DIR ? 'ipam-ours' : 'ipam-ref') } } : base;
  const ctr = pool.make('c');
  const r = await invoke(pluginDir, 'ADD', ctr, conf);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const result = resultShape(r.json, ctr.path);
  const state = { link: linkState(ctr, 'eth0'), routes4: routeTable(ctr, '-4'), routes6: routeTable(ctr, '-6') };
  const reach = { lan4: pings(ctr, '10.84.0.1'), lan6: pings(ctr, 'fd84::1') };
  expect((await invoke(pluginDir, 'DEL', ctr, conf)).code).toBe(0);
  expect(ctr.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
  return { result, state, reach };
}

describe.runIf(existsSync(join(REFERENCE_DIR, 'macvlan')))('macvlan beside the reference plugin', () => {
  const configs: Array<[string, () => Record<string, unknown>]> = [
    ['dual stack with routes and DNS', dualStack],
    ['private mode, MTU and MAC', () => ({ ...dualStack(), mode: 'private', mtu: 1400, mac: '02:84:00:00:00:0a' })],
    ['vepa mode', () => ({ ...dualStack(), mode: 'vepa' })],
    ['L2 only, no IPAM', () => ({ ...dualStack(), ipam: undefined, dns: undefined })],
  ];

  it.each(configs)('%s: the same conflist leaves the same link, addresses, routes and result', async (_what, conf) => {
    addLanNic(host, lan, 'phys0', 'lan0', { v4: '10.84.0', v6: 'fd84:0:0:0' });
    const theirs = await observe(REFERENCE_DIR, conf());
    const ours = await observe(BIN_DIR, conf());
    expect(ours.result).toEqual({ ...theirs.result, cniVersion: '1.0.0' });
    expect(ours.state).toEqual(theirs.state);
    expect(ours.reach).toEqual(theirs.reach);
  });

  it('the comparison covers what it should: the kind and mode, the addresses, the routes of IPAM', async () => {
    addLanNic(host, lan, 'phys0', 'lan0', { v4: '10.84.0', v6: 'fd84:0:0:0' });
    const theirs = await observe(REFERENCE_DIR, { ...dualStack(), mode: 'private', mtu: 1400 });
    expect(theirs.state.link).toMatchObject({ kind: 'macvlan', mtu: 1400, info_data: expect.objectContaining({ mode: 'private' }) });
    expect(theirs.state.link.addr_info).toEqual([expect.objectContaining({ local: '10.84.0.10', prefixlen: 24 }), expect.objectContaining({ local: 'fd84::2', prefixlen: 64 })]);
    expect(theirs.state.routes4.map((r) => JSON.parse(r))).toContainEqual(expect.objectContaining({ dst: '10.200.0.0/16', gateway: '10.84.0.7', protocol: 'boot' }));
    expect(theirs.reach).toEqual({ lan4: true, lan6: true });
  });

  for (const [adder, other] of [
    ['the reference', 'ours'],
    ['ours', 'the reference'],
  ] as const) {
    it(`a container added by ${adder} passes CHECK and is removed by DEL of ${other}`, async () => {
      addLanNic(host, lan, 'phys0', 'lan0', { v4: '10.84.0', v6: 'fd84:0:0:0' });
      const dirOf = (who: string) => (who === 'ours' ? BIN_DIR : REFERENCE_DIR);
      const conf = { ...dualStack(), ipam: { ...dualStack().ipam, routes: [{ dst: '0.0.0.0/0' }, { dst: '10.200.0.0/16', gw: '10.84.0.7' }] } };
      const ctr = pool.make('c');
      const add = await invoke(dirOf(adder), 'ADD', ctr, conf);
      expect(add.code, add.stdout + add.stderr).toBe(0);
      const check = await invoke(dirOf(other), 'CHECK', ctr, { ...conf, prevResult: add.json });
      expect(check.code, check.stdout + check.stderr).toBe(0);
      const del = await invoke(dirOf(other), 'DEL', ctr, conf);
      expect(del.code, del.stdout + del.stderr).toBe(0);
      expect(ctr.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
      expect(reservations()).toEqual([]);
    });
  }
});
