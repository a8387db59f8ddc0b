import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostVeths, ipamFiles } from '../helpers/cnitool';
import { execPlugin, type PluginOutcome } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';

/**
 * A 5,000-deep unknown field inside prevResult. JSON.parse takes any depth, so fuzz.test.ts's deep
 * junk (a top-level field, which no result echoes) ended in a clean ADD; but JSON.stringify recurses
 * and overflows at a few thousand levels, so a chained plugin that passes prevResult's interfaces
 * through answered 999 when printing its result, after it had changed the host or container.
 * skel now refuses input nested deeper than 64 levels (code 6) before any verb runs.
 */
const DEPTH = 5_000;

let dir: string;
let host: TestNetns;
const pool = useNodeFixture('cnit-deep-', (node) => ({ dir, host } = node));

const bridgeConf = () => ({
  cniVersion: '1.0.0',
  name: 'deepnet',
  type: 'bridge',
  bridge: 'cnitd0',
  isGateway: true,
  ipMasq: true,
  ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.69.0.0/24' }]] },
});

const chainedConf = (plugin: string) =>
  plugin === 'tuning'
    ? { cniVersion: '1.0.0', name: 'deepnet', type: 'tuning', sysctl: { 'net.ipv4.conf.eth0.rp_filter': '2' }, mtu: 1300, dataDir: join(dir, 'tuning') }
    : {
        cniVersion: '1.0.0',
        name: 'deepnet',
        type: 'portmap',
        capabilities: { portMappings: true },
        runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
      };

/** `conf` as stdin with its `"x":0` replaced by DEPTH nested arrays (JSON.stringify could not write them). */
const withDeepField = (conf: object) => {
  const text = JSON.stringify(conf);
  expect(text).toContain('"x":0');
  return text.replace('"x":0', `"x":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`);
};

const run = (plugin: string, command: string, ctr: TestNetns, stdin: string | object): Promise<PluginOutcome> =>
  execPlugin(plugin, { command, containerId: 'deep1', netns: ctr.path, ifname: 'eth0', stdin, inNetns: host.name, env: { CNI_TS_STATE_DIR: join(dir, 'state') } });

const ok = (r: PluginOutcome) => expect(r.code, r.stdout + r.stderr).toBe(0);

function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

type Link = { ifname: string; mtu: number; address: string; master?: string; addr_info?: Array<{ local: string; prefixlen: number }> };
/** What a failed ADD must not change: links and addresses on both sides, the container's rp_filter, the host's ruleset, every file of the test. */
function snapshot(ctr: TestNetns) {
  const links = (ns: TestNetns) =>
    ns
      .ipJson<Link[]>('addr', 'show')
      .map((l) => ({ ifname: l.ifname, mtu: l.mtu, address: l.address, master: l.master, addrs: (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`) }));
  return {
    host: links(host),
    container: links(ctr),
    rpFilter: ctr.exec('sysctl', ['-e', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.eth0.rp_filter']),
    ruleset: execFileSync('ip', ['netns', 'exec', host.name, 'nft', 'list', 'ruleset'], { encoding: 'utf8' }),
    files: filesUnder(dir),
  };
}

function expectDecodeRefusal(r: PluginOutcome): void {
  expect(r.code).toBe(1);
  expect(r.json).toMatchObject({ code: 6 });
  expect(r.json.msg).toContain(`${DEPTH + 4} levels deep`);
  expect(r.json.msg).toContain('the limit is 64');
  expect(r.stderr).not.toMatch(/RangeError|Maximum call stack/);
}

describe(`input nested ${DEPTH} deep inside prevResult`, () => {
  it('bridge ADD answers 6 and creates nothing: no bridge, no veth, no IPAM file, no rule', async () => {
    const ctr = pool.make('c');
    const prevResult = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: ctr.path, x: 0 }], ips: [] };
    const before = snapshot(ctr);
    const r = await run('bridge', 'ADD', ctr, withDeepField({ ...bridgeConf(), prevResult }));
    expectDecodeRefusal(r);
    expect(snapshot(ctr)).toEqual(before);
    expect(hostVeths(host)).toEqual([]);
    expect(ipamFiles(join(dir, 'ipam'), 'deepnet')).toEqual([]);
  });

  it.each(['tuning', 'portmap'])('%s ADD after bridge answers 6 and changes nothing; DEL of the chain with its real input still works', async (plugin) => {
    const ctr = pool.make('c');
    const added = await run('bridge', 'ADD', ctr, bridgeConf());
    ok(added);
    const prevResult = structuredClone(added.json);
    prevResult.interfaces[2].x = 0; // the container interface: chained plugins pass interfaces through as they are

    const before = snapshot(ctr);
    const r = await run(plugin, 'ADD', ctr, withDeepField({ ...chainedConf(plugin), prevResult }));
    expectDecodeRefusal(r);
    expect(snapshot(ctr)).toEqual(before);

    // the runtime's DEL after the refused ADD carries the same deep input: it must succeed all the same
    ok(await run(plugin, 'DEL', ctr, withDeepField({ ...chainedConf(plugin), prevResult })));
    ok(await run('bridge', 'DEL', ctr, withDeepField({ ...bridgeConf(), prevResult })));
    expect(hostVeths(host)).toEqual([]);
    expect(ipamFiles(join(dir, 'ipam'), 'deepnet')).toEqual([]);
  });
});
