import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execPlugin, type PluginInvocation } from '../helpers/exec-plugin';
import { useDirFixture } from '../helpers/dir-fixture';
import type { TestNetns } from '../helpers/netns';

// Issue 11: a full /16 answered "no addresses" after 24-29 s under the network's lock, and a
// 20,000-range config spun ADD for over a minute.
const REFERENCE = '/usr/lib/cni/host-local';
let dataDir: string;
let ns: TestNetns;
const pool = useDirFixture('cnit-hls-', 'hls', (dir, made) => ((dataDir = dir), (ns = made)));
afterAll(() => pool.destroyAll());

const conf = (ranges: unknown) => ({ cniVersion: '1.0.0', name: 'big', type: 'bridge', ipam: { type: 'host-local', dataDir, ranges } });

const timed = async (executable: string, inv: PluginInvocation) => {
  const start = performance.now();
  const outcome = await execPlugin(executable, { containerId: 'late', netns: ns.path, ifname: 'eth0', ...inv });
  return { ...outcome, ms: Math.round(performance.now() - start) };
};

/** 10.66.0.0/16 with every address but the gateway (.0.1) reserved in the reference format, as 65,533 ADDs would leave it. */
function fillSlash16(): string {
  const dir = join(dataDir, 'big');
  mkdirSync(dir);
  for (let i = 2; i < 65535; i++) writeFileSync(join(dir, `10.66.${i >> 8}.${i & 255}`), `fill${i}\r\neth0`);
  return dir;
}

describe('host-local with a full /16 (65,533 reservations)', () => {
  it('answers "no addresses" (100) in well under 3 s, then a DEL frees an address the next ADD gets', async () => {
    const dir = fillSlash16();
    const full = conf([[{ subnet: '10.66.0.0/16' }]]);

    const add = await timed('host-local', { command: 'ADD', stdin: full });
    expect(add.json, add.stdout + add.stderr).toMatchObject({ code: 100 });
    expect(add.json.msg).toContain('no IP addresses available in range set: 10.66.0.1-10.66.255.254');
    let reference = '';
    if (existsSync(REFERENCE)) {
      const ref = await timed(REFERENCE, { command: 'ADD', stdin: full, containerId: 'ref-late' });
      expect(ref.code).not.toBe(0);
      reference = `, reference ${REFERENCE} ${ref.ms} ms (ratio ${(add.ms / ref.ms).toFixed(2)})`;
    }
    console.log(`full /16 ADD: ours ${add.ms} ms${reference}`);
    expect(add.ms).toBeLessThan(3_000);

    // 10.66.123.45 belongs to fill<123 * 256 + 45>
    const del = await timed('host-local', { command: 'DEL', stdin: full, containerId: 'fill31533' });
    expect(del.code, del.stdout).toBe(0);
    expect(existsSync(join(dir, '10.66.123.45'))).toBe(false);
    const again = await timed('host-local', { command: 'ADD', stdin: full });
    expect(again.code, again.stdout).toBe(0);
    expect(again.json.ips).toEqual([{ address: '10.66.123.45/16', gateway: '10.66.0.1' }]);
    expect(readFileSync(join(dir, '10.66.123.45'), 'utf8')).toBe('late\r\neth0');
    console.log(`full /16: DEL ${del.ms} ms, ADD of the one free address ${again.ms} ms`);

    // a retried ADD gets the same address back, still without trying every taken one
    const retry = await timed('host-local', { command: 'ADD', stdin: full });
    expect(retry.json.ips).toEqual(again.json.ips);
    expect(retry.ms).toBeLessThan(3_000);
    expect(readdirSync(dir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });
});

describe('host-local with 20,000 ranges (a 600 KB config)', () => {
  const subnets = Array.from({ length: 20_000 }, (_, i) => ({ subnet: `10.${i >> 8}.${i & 255}.0/24` }));

  it.each([
    ['in one range set', [subnets]],
    ['as 20,000 range sets', subnets.map((r) => [r])],
  ])('ADD answers 7 naming the field within 2 s, %s, writing nothing', async (_label, ranges) => {
    const stdin = JSON.stringify(conf(ranges));
    expect(stdin.length).toBeGreaterThan(500_000);
    const add = await timed('host-local', { command: 'ADD', stdin });
    expect(add.json, add.stdout + add.stderr).toMatchObject({ code: 7 });
    expect(add.json.msg).toBe('invalid field "ipam.ranges": 20000 ranges in all range sets; at most 1024 are allowed');
    console.log(`20,000-range config (${_label}): ADD refused in ${add.ms} ms`);
    expect(add.ms).toBeLessThan(2_000);
    expect(readdirSync(dataDir)).toEqual([]);
  });
});
