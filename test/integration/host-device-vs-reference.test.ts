import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_DIR, execPlugin } from '../helpers/exec-plugin';
import { linkState, resultShape, routeTable } from '../helpers/kernel-state';
import { addLanNic, useLanFixture } from '../helpers/lan';
import type { TestNetns } from '../helpers/netns';
import { pings } from '../helpers/topology';

const REFERENCE_DIR = '/usr/lib/cni';

let dir: string;
let host: TestNetns;
let lan: TestNetns;
const pool = useLanFixture('cnit-hdref-', (f) => ({ dir, host, lan } = f));

const conf = (side: string, extra: Record<string, unknown> = {}) => ({
  cniVersion: '1.0.0',
  name: 'hdcmp',
  type: 'host-device',
  device: 'hd0',
  ipam: {
    type: 'host-local',
    dataDir: join(dir, `ipam-${side}`),
    ranges: [[{ subnet: '10.85.0.0/24', rangeStart: '10.85.0.10', gateway: '10.85.0.1' }], [{ subnet: 'fd85::/64', gateway: 'fd85::1' }]],
    routes: [{ dst: '0.0.0.0/0' }, { dst: '10.200.0.0/16', gw: '10.85.0.7' }],
  },
  dns: { nameservers: ['10.85.0.1'] },
  ...extra,
});

const dirOf = (who: 'ours' | 'reference') => (who === 'ours' ? BIN_DIR : REFERENCE_DIR);
const invoke = (who: 'ours' | 'reference', command: string, ctr: TestNetns, stdin: object) =>
  execPlugin(join(dirOf(who), 'host-device'), {
    command,
    containerId: `cmp-${ctr.name}`,
    netns: ctr.path,
    ifname: 'eth0',
    path: dirOf(who),
    stdin,
    inNetns: host.name,
    env: { CNI_TS_STATE_DIR: join(dir, 'state') },
  });

const hostLinks = () => host.ipJson<Array<{ ifname: string; flags: string[]; mtu: number; ifalias?: string }>>('link', 'show');

/** One ADD by `who` of the host's hd0 into a fresh container: the result and the container's link, routes and reach. */
async function observe(who: 'ours' | 'reference', extra: Record<string, unknown> = {}) {
  const ctr = pool.make('c');
  const cfg = conf(who, extra);
  const r = await invoke(who, 'ADD', ctr, cfg);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const seen = {
    result: resultShape(r.json, ctr.path),
    link: linkState(ctr, 'eth0'),
    routes4: routeTable(ctr, '-4'),
    routes6: routeTable(ctr, '-6'),
    reach: pings(ctr, '10.85.0.1'),
  };
  const del = await invoke(who, 'DEL', ctr, cfg);
  expect(del.code, del.stdout + del.stderr).toBe(0);
  expect(hostLinks().map((l) => l.ifname)).toContain('hd0');
  return seen;
}

describe.runIf(existsSync(join(REFERENCE_DIR, 'host-device')))('host-device beside the reference plugin', () => {
  it.each([
    ['with IPAM', {}],
    ['without IPAM', { ipam: undefined, dns: undefined }],
  ])('%s: the same conflist leaves the same container link, addresses, routes and result', async (_what, extra) => {
    addLanNic(host, lan, 'hd0', 'lan0', { v4: '10.85.0', v6: 'fd85:0:0:0', mtu: 1450 });
    const theirs = await observe('reference', extra);
    // the reference gives the device back down; ours would restore it up, so start both alike
    host.exec('ip', ['link', 'set', 'hd0', 'up']);
    const ours = await observe('ours', extra);
    expect(ours.result).toEqual({ ...theirs.result, cniVersion: '1.0.0' });
    expect(ours.link).toEqual(theirs.link);
    expect(ours.routes4).toEqual(theirs.routes4);
    expect(ours.routes6).toEqual(theirs.routes6);
    expect(ours.reach).toBe(theirs.reach);
    if ('ipam' in extra) expect(theirs.link).toMatchObject({ mtu: 1450, addr_info: [] });
    else expect(theirs.reach).toBe(true);
  });

  it('after DEL the device is back under its name: down and without its alias for the reference, as it was for ours', async () => {
    addLanNic(host, lan, 'hd0', 'lan0', { v4: '10.85.0', v6: 'fd85:0:0:0', mtu: 1450 });
    host.exec('ip', ['link', 'set', 'hd0', 'alias', 'rack 7']);
    await observe('ours');
    const restored = hostLinks().find((l) => l.ifname === 'hd0')!;
    expect(restored).toMatchObject({ mtu: 1450, ifalias: 'rack 7' });
    expect(restored.flags).toContain('UP');
    await observe('reference');
    const after = hostLinks().find((l) => l.ifname === 'hd0')!;
    expect(after.flags).not.toContain('UP');
    expect(after.mtu).toBe(1450);
  });

  for (const [adder, other] of [
    ['reference', 'ours'],
    ['ours', 'reference'],
  ] as const) {
    it(`a device added by ${adder === 'ours' ? 'ours' : 'the reference'} passes CHECK and goes back to the host on DEL of ${other === 'ours' ? 'ours' : 'the reference'}`, async () => {
      addLanNic(host, lan, 'hd0', 'lan0', { v4: '10.85.0', v6: 'fd85:0:0:0' });
      const ctr = pool.make('c');
      const cfg = conf('shared');
      const add = await invoke(adder, 'ADD', ctr, cfg);
      expect(add.code, add.stdout + add.stderr).toBe(0);
      const check = await invoke(other, 'CHECK', ctr, { ...cfg, prevResult: add.json });
      expect(check.code, check.stdout + check.stderr).toBe(0);
      const del = await invoke(other, 'DEL', ctr, cfg);
      expect(del.code, del.stdout + del.stderr).toBe(0);
      expect(ctr.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
      expect(hostLinks().map((l) => l.ifname)).toContain('hd0');
    });
  }
});
