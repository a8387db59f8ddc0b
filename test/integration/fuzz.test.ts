import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostVeths, stateRecords } from '../helpers/cnitool';
import { execPlugin, type PluginOutcome } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { seededRandom, testSeed } from '../helpers/seeded-random';

/**
 * Hostile input, generated from a seed (CNI_TS_TEST_SEED replays a run): broken JSON, deep nesting,
 * huge input, wrong types anywhere, path and unicode tricks in names, bad ifnames, netns paths,
 * ports, CIDRs and IPAM types. Every case must end in a CNI error object with a known code (never
 * 999, never a stack trace on stdout), or, if the input happens to be valid, in a clean ADD that
 * DEL undoes; no file may appear outside the data directories, nothing may be left behind.
 */
const CASES = 320;
const BATCH = 6;
const SEED = testSeed(5_300);
const CNI_CODES = new Set([1, 2, 3, 4, 5, 6, 7, 8, 11, 50, 51, 100, 101, 102, 103, 110, 120, 130, 131, 132, 140]);

let dir: string;
let host: TestNetns;
const pool = useNodeFixture('cnit-fuzz-', (node) => ({ dir, host } = node));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Random = () => number;
interface Case {
  plugin: string;
  what: string;
  command: string;
  stdin: string;
  env: Record<string, string | undefined>;
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];

const prevResult: Json = { cniVersion: '1.0.0', interfaces: [{ name: 'cnifz0' }, { name: 'eth0', sandbox: '/x' }], ips: [{ address: '10.52.0.5/24', interface: 1 }] };
function baseConfig(plugin: string): { [key: string]: Json } {
  return structuredClone(freshConfig(plugin));
}

function freshConfig(plugin: string): { [key: string]: Json } {
  const ipam = {
    type: 'host-local',
    dataDir: join(dir, 'data'),
    ranges: [[{ subnet: '10.52.0.0/24', rangeStart: '10.52.0.10', gateway: '10.52.0.1' }], [{ subnet: 'fd52::/64' }]],
    routes: [{ dst: '0.0.0.0/0' }],
  };
  const common = { cniVersion: '1.0.0', name: 'fuzznet', type: plugin };
  switch (plugin) {
    case 'bridge':
      return { ...common, bridge: 'cnifz0', isGateway: true, ipMasq: true, mtu: 1400, ipam };
    case 'host-local':
      return { ...common, ipam };
    case 'portmap':
      return { ...common, runtimeConfig: { portMappings: [{ hostPort: 23000, containerPort: 80, protocol: 'tcp', hostIP: '' }] }, prevResult };
    case 'firewall':
      return { ...common, backend: '', ingressPolicy: 'same-bridge', prevResult };
    case 'tuning':
      return { ...common, sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '2' }, mtu: 1300, dataDir: join(dir, 'tuning'), prevResult };
    default:
      return common;
  }
}

/** Every [parent, key] inside a JSON value, for replacing one field. */
function slots(value: Json, out: Array<[Json[] | { [key: string]: Json }, string | number]> = []): typeof out {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push([value, i]), slots(v, out);
  } else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push([value, k]), slots(v, out);
  return out;
}

const wrongValues: Json[] = [null, true, 0, -1, 1e308, 3.5, '', 'x', '../../../etc/passwd', [], [[]], {}, { a: 1 }, '\u0000', 'é'.repeat(300)];

const generators: Array<(random: Random, plugin: string) => Omit<Case, 'plugin' | 'command'> & { command?: string }> = [
  (r, p) => {
    const text = JSON.stringify(baseConfig(p));
    const cut = Math.floor(r() * text.length);
    return { what: `truncated at ${cut}`, stdin: text.slice(0, cut), env: {} };
  },
  (r, p) => {
    const depth = pick(r, [1_000, 10_000, 200_000]);
    const text = JSON.stringify({ ...baseConfig(p), junk: 0 }).replace('0}', `${'['.repeat(depth)}${']'.repeat(depth)}}`);
    return { what: `nested ${depth} deep`, stdin: text, env: {} };
  },
  (r, p) => {
    const megabytes = pick(r, [1, 4, 12]);
    return { what: `${megabytes} MB field`, stdin: JSON.stringify({ ...baseConfig(p), junk: 'x'.repeat(megabytes << 20) }), env: {} };
  },
  (r) => {
    const text = pick(r, ['', 'null', '[]', '42', '"conf"', 'true', '{', '}', '\u0000', '{"cniVersion":"1.0.0","name":"n","type":"bridge"}x', '\ufeff{}']);
    return { what: `stdin ${JSON.stringify(text)}`, stdin: text, env: {} };
  },
  (r, p) => {
    const conf = baseConfig(p);
    const all = slots(conf);
    const [parent, key] = all[Math.floor(r() * all.length)];
    const value = pick(r, wrongValues);
    (parent as Record<string | number, Json>)[key] = value;
    return { what: `field ${JSON.stringify(key)} = ${JSON.stringify(value)?.slice(0, 40)}`, stdin: JSON.stringify(conf), env: {} };
  },
  (r, p) => {
    const name = pick(r, ['../../x', 'a/b', '..', '.', '', 'x'.repeat(300), 'ネット', 'a\u0000b', 'a b', '\u202eevil', '-lead', 'a\nb']);
    return { what: `network name ${JSON.stringify(name)}`, stdin: JSON.stringify({ ...baseConfig(p), name }), env: {} };
  },
  (r, p) => {
    const ifname = pick(r, ['eth/0', '..', '.', '', 'a'.repeat(16), 'eth0\n', 'ëthernet0ëë', ' eth0', 'eth:0']);
    return { what: `CNI_IFNAME ${JSON.stringify(ifname)}`, stdin: JSON.stringify(baseConfig(p)), env: { CNI_IFNAME: ifname } };
  },
  (r, p) => {
    const id = pick(r, ['', '../x', 'a/b', 'x'.repeat(5000), 'ü', '.', '..', 'a\tb']);
    return { what: `CNI_CONTAINERID ${JSON.stringify(id.slice(0, 20))}`, stdin: JSON.stringify(baseConfig(p)), env: { CNI_CONTAINERID: id } };
  },
  (r, p) => {
    const netns = pick(r, ['/nonexistent/ns', '/etc/passwd', '', 'relative/ns', '/proc/1/ns/mnt', '/dev/null', '/']);
    return { what: `CNI_NETNS ${JSON.stringify(netns)}`, stdin: JSON.stringify(baseConfig(p)), env: { CNI_NETNS: netns } };
  },
  (r) => {
    const conf = baseConfig('portmap');
    const field = pick(r, ['hostPort', 'containerPort', 'protocol', 'hostIP'] as const);
    const value =
      field === 'protocol'
        ? pick(r, ['icmp', '', 'TCP ', 7, 'tcp\u0000'])
        : field === 'hostIP'
          ? pick(r, ['999.1.1.1', '::g', 'localhost', 5])
          : pick(r, [0, -1, 65536, 1.5, '80', null, 1e10]);
    (conf.runtimeConfig as { portMappings: Array<Record<string, Json>> }).portMappings[0][field] = value;
    return { what: `portmap ${field} = ${JSON.stringify(value)}`, stdin: JSON.stringify(conf), env: {}, plugin: 'portmap' } as never;
  },
  (r, p) => {
    const conf = baseConfig(pick(r, ['bridge', 'host-local']) ?? p);
    const range = (conf.ipam as { ranges: Json[][] }).ranges[0][0] as Record<string, Json>;
    const field = pick(r, ['subnet', 'rangeStart', 'rangeEnd', 'gateway'] as const);
    const value = pick(r, ['10.0.0.0/33', '300.1.1.1/24', '::/129', '10.0.0.0', '10.0.0.0/-1', 'fe80::/64x', '', '10.99.0.1', '0.0.0.0/0']);
    range[field] = value;
    return { what: `${conf.type} range ${field} = ${JSON.stringify(value)}`, stdin: JSON.stringify(conf), env: {}, plugin: conf.type } as never;
  },
  (r) => {
    const conf = baseConfig('bridge');
    const type = pick(r, ['../../bin/sh', '/bin/sh', 'host-local/../host-local', '.', '', 'no-such-plugin', '..']);
    (conf.ipam as Record<string, Json>).type = type;
    return { what: `ipam type ${JSON.stringify(type)}`, stdin: JSON.stringify(conf), env: {}, plugin: 'bridge' } as never;
  },
  (r, p) => {
    const command = pick(r, ['add', 'FOO', '', 'ADD;rm -rf /', 'VERSION ']);
    return { what: `CNI_COMMAND ${JSON.stringify(command)}`, stdin: JSON.stringify(baseConfig(p)), env: {}, command };
  },
  (r, p) => {
    const cniVersion = pick(r, ['9.9.9', '', '1.0', 'x', null, 100, '0.0.1', '1.0.0\u0000']);
    return { what: `cniVersion ${JSON.stringify(cniVersion)}`, stdin: JSON.stringify({ ...baseConfig(p), cniVersion }), env: {} };
  },
];

const PLUGINS = ['bridge', 'host-local', 'portmap', 'firewall', 'tuning', 'loopback'];

function generate(random: Random, index: number): Case {
  const generator = generators[index % generators.length];
  const plugin = pick(random, PLUGINS);
  const made = generator(random, plugin) as Omit<Case, 'plugin' | 'command'> & { command?: string; plugin?: string };
  return { plugin: made.plugin ?? plugin, command: made.command ?? pick(random, ['ADD', 'ADD', 'ADD', 'DEL', 'CHECK']), what: made.what, stdin: made.stdin, env: made.env };
}

/** Every file under `root`, relative to it. */
function walk(root: string, base = root): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? [relative(base, path) + '/', ...walk(path, base)] : [relative(base, path)];
  });
}

describe(`fuzz: ${CASES} hostile inputs (seed ${SEED})`, () => {
  it('every case ends in a CNI error with a known code or a clean success; nothing escapes the data directories; nothing is left', async () => {
    const random = seededRandom(SEED);
    const ctr = pool.make('fuzzctr');
    const cases = Array.from({ length: CASES }, (_, i) => generate(random, i));
    const varLibBefore = walk('/var/lib/cni');
    const codes = new Map<number, number>();
    let succeeded = 0;

    const run = (c: Case, i: number, command = c.command): Promise<PluginOutcome> =>
      execPlugin(c.plugin, {
        command,
        containerId: `fuzz-${i}`,
        netns: ctr.path,
        ifname: 'eth0',
        stdin: c.stdin,
        inNetns: host.name,
        env: { CNI_TS_STATE_DIR: join(dir, 'state'), ...c.env },
      });

    for (let start = 0; start < CASES; start += BATCH) {
      const batch = cases.slice(start, start + BATCH);
      // cases that may create something run alone: an ADD that succeeds is undone before the next
      await Promise.all(
        batch.map(async (c, offset) => {
          const i = start + offset;
          const label = `case ${i} (seed ${SEED}): ${c.plugin} ${JSON.stringify(c.command)} with ${c.what}`;
          const r = await run(c, i);
          expect(r.stdout, `${label}: a stack trace on stdout`).not.toMatch(/\n\s+at /);
          if (r.code === 0) {
            succeeded++;
            if (c.command === 'ADD') {
              const del = await run(c, i, 'DEL');
              expect(del.code, `${label}: DEL after a successful ADD: ${del.stdout}`).toBe(0);
            }
            return;
          }
          expect(r.json, `${label}: stdout is not one JSON error object: ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 300)}`).toMatchObject({
            code: expect.any(Number),
            msg: expect.any(String),
          });
          expect(CNI_CODES.has(r.json.code), `${label}: code ${r.json.code}: ${r.json.msg}`).toBe(true);
          codes.set(r.json.code, (codes.get(r.json.code) ?? 0) + 1);
        }),
      );
    }

    const summary = [...codes.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([code, n]) => `${code}×${n}`)
      .join(' ');
    console.log(`fuzz seed ${SEED}: ${CASES} cases, ${succeeded} valid by chance (ADDs undone), errors by code: ${summary}`);

    const outside = walk(dir).filter((p) => !/^(data|state|tuning)\//.test(p) && !['data/', 'state/', 'tuning/'].includes(p));
    expect(outside).toEqual([]);
    expect(walk(join(dir, 'data')).filter((p) => !/^fuzznet\/(lock|last_reserved_ip\.\d)?$/.test(p) && p !== 'fuzznet/')).toEqual([]);
    expect(walk('/var/lib/cni')).toEqual(varLibBefore);
    expect(stateRecords(dir)).toEqual([]);
    expect(hostVeths(host)).toEqual([]);
    expect(ctr.ipJson<Array<{ ifname: string }>>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
  }, 600_000);
});
