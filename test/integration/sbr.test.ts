import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_DIR, execPlugin, type PluginOutcome } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { UPLINK } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';

/**
 * A container on two networks: eth0 (the default route) and net1, with sbr chained on net1. The
 * host filters by reverse path (rp_filter=1), so a reply to a request that came in on net1 and left
 * through eth0 is dropped, as on a router or cloud network that checks sources.
 */
let dir: string;
let host: TestNetns;
let outside: TestNetns;
const pool = useNodeFixture('cnit-sbr-', (node) => ({ dir, host, outside } = node));

const REFERENCE = '/usr/lib/cni/sbr';
const env = () => ({ CNI_TS_STATE_DIR: join(dir, 'state') });
const bridge = (name: string, octet: number, defaultGateway: boolean) => ({
  cniVersion: '1.0.0',
  name,
  type: 'bridge',
  bridge: `cnisbr${octet}`,
  isGateway: true,
  isDefaultGateway: defaultGateway,
  ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: `10.${octet}.0.0/24` }]] },
});
const sbrConf = (prevResult: object, extra: object = {}) => ({ cniVersion: '1.0.0', name: 'sbrnet', type: 'sbr', prevResult, ...extra });
const run = (plugin: string, command: string, ctr: TestNetns, ifname: string, stdin: object, path = BIN_DIR) =>
  execPlugin(plugin, { command, containerId: `c-${ctr.name}`, netns: ctr.path, ifname, stdin, inNetns: host.name, env: env(), path });
const ok = (r: PluginOutcome) => expect(r.code, r.stdout + r.stderr).toBe(0);
const addressOf = (r: PluginOutcome) => r.json.ips[0].address.split('/')[0] as string;

/** The container on both networks, a server on port 80, the outside routed to both subnets through the host. */
async function twoNetworks(ctr: TestNetns) {
  host.exec('sysctl', ['-qw', 'net.ipv4.conf.all.rp_filter=1']);
  const front = await run('bridge', 'ADD', ctr, 'eth0', bridge('sbrfront', 72, true));
  ok(front);
  const side = await run('bridge', 'ADD', ctr, 'net1', bridge('sbrnet', 73, false));
  ok(side);
  for (const subnet of ['10.72.0.0/24', '10.73.0.0/24']) outside.exec('ip', ['route', 'replace', subnet, 'via', UPLINK.host4]);
  return { front, side };
}

/** `ip rule` and every table but local, the container's own addresses as 10.7x.0.X: what sbr changed. */
function routing(ctr: TestNetns): string {
  const rules = ctr.exec('ip', ['-4', 'rule', 'show']);
  const routes = ctr
    .exec('ip', ['-4', 'route', 'show', 'table', 'all'])
    .split('\n')
    .filter((l) => l && !l.includes('table local'));
  return `${rules}\n${routes.sort().join('\n')}`.replace(/10\.(72|73)\.0\.(?!0\b|1\b)\d+/g, '10.$1.0.X');
}

describe('sbr', () => {
  it('replies leave through the interface the request came in on; CHECK sees a missing rule; DEL removes rules and table routes', async () => {
    const ctr = pool.make('c');
    const { front, side } = await twoNetworks(ctr);
    await serve(ctr, 'tcp', 80, 'ctr');
    const net1 = addressOf(side);
    // without sbr, the reply to a request on net1 leaves through eth0, and the host drops it
    expect(ask(outside, 'tcp', net1, 80)).toBeUndefined();
    expect(ask(outside, 'tcp', addressOf(front), 80)).toBe(`ctr saw ${UPLINK.outside4}`);

    const add = await run('sbr', 'ADD', ctr, 'net1', sbrConf(side.json));
    ok(add);
    expect(add.json).toEqual(side.json);
    expect(ask(outside, 'tcp', net1, 80)).toBe(`ctr saw ${UPLINK.outside4}`);
    expect(ask(outside, 'tcp', addressOf(front), 80)).toBe(`ctr saw ${UPLINK.outside4}`);
    const shown = routing(ctr);
    expect(shown).toMatch(/from 10\.73\.0\.X lookup 100/);
    expect(shown).toContain('default via 10.73.0.1 dev net1 table 100');
    expect(ctr.ipJson<Array<{ dev?: string }>>('-4', 'route', 'show', 'table', 'main').filter((r) => r.dev === 'net1')).toEqual([]);

    ok(await run('sbr', 'CHECK', ctr, 'net1', sbrConf(side.json)));
    ctr.exec('ip', ['rule', 'del', 'from', net1, 'lookup', '100']);
    expect((await run('sbr', 'CHECK', ctr, 'net1', sbrConf(side.json))).json).toMatchObject({ code: 140, msg: expect.stringContaining(`rule from ${net1}/32 lookup 100`) });
    ctr.exec('ip', ['rule', 'add', 'from', net1, 'lookup', '100']);

    ok(await run('sbr', 'DEL', ctr, 'net1', sbrConf(side.json)));
    expect(ctr.exec('ip', ['rule', 'show'])).not.toContain('lookup 100');
    expect(ctr.exec('ip', ['route', 'show', 'table', '100'])).toBe('');
    expect(existsSync(join(dir, 'state', 'sbr', 'sbrnet'))).toBe(false);
    ok(await run('sbr', 'DEL', ctr, 'net1', sbrConf(side.json)));
  });

  it('"table": rules only, into that table; a failed ADD (no address for the interface) changes nothing; DEL with the namespace gone succeeds', async () => {
    const ctr = pool.make('c');
    const { side } = await twoNetworks(ctr);
    const before = routing(ctr);
    const refused = await run('sbr', 'ADD', ctr, 'eth1', sbrConf(side.json));
    expect(refused.json).toMatchObject({ code: 7, msg: expect.stringContaining('"eth1"') });
    expect(routing(ctr)).toBe(before);
    // refused by the kernel after the rule was in (a gateway not on the link): the rule goes again
    const unreachable = await run('sbr', 'ADD', ctr, 'net1', sbrConf(side.json, { gateways: ['192.0.2.1'] }));
    expect(unreachable.json).toMatchObject({ code: 110 });
    expect(routing(ctr)).toBe(before);
    expect((await run('sbr', 'ADD', ctr, 'net1', sbrConf(side.json, { gateways: ['10.0.0.1', '10.0.0.2'] }))).json).toMatchObject({
      code: 7,
      msg: expect.stringContaining('two IPv4 addresses'),
    });

    ok(await run('sbr', 'ADD', ctr, 'net1', sbrConf(side.json, { table: 500 })));
    const shown = routing(ctr);
    expect(shown).toMatch(/from 10\.73\.0\.X lookup 500/);
    expect(shown.replace(/\d+:\s+from 10\.73\.0\.X lookup 500\n/, '')).toBe(before);
    ctr.destroy();
    ok(await run('sbr', 'DEL', ctr, 'net1', sbrConf(side.json, { table: 500 })));
  });

  it('IPv6 as IPv4: each address its own table, so a reply from the IPv6 address leaves through its interface; as the reference', async () => {
    const dual = (ctr: TestNetns, containerId: string) => {
      const conf = { ...bridge('sbrdual', 75, false), ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.75.0.0/24' }], [{ subnet: 'fd75::/64' }]] } };
      return execPlugin('bridge', { command: 'ADD', containerId, netns: ctr.path, ifname: 'net1', stdin: conf, inNetns: host.name, env: env() });
    };
    const ours = pool.make('ours6');
    const theirs = pool.make('theirs6');
    for (const ctr of [ours, theirs]) ok(await run('bridge', 'ADD', ctr, 'eth0', bridge('sbrfront', 72, true)));
    const a = await dual(ours, 'c-ours6');
    const b = await dual(theirs, 'c-theirs6');
    ok(a);
    ok(b);
    ok(await run('sbr', 'ADD', ours, 'net1', sbrConf(a.json)));
    ok(await execPlugin(REFERENCE, { command: 'ADD', containerId: 'ref6', netns: theirs.path, ifname: 'net1', stdin: sbrConf(b.json), inNetns: host.name, path: '/usr/lib/cni' }));
    const v6 = a.json.ips.find((i: { address: string }) => i.address.includes(':')).address.split('/')[0];
    expect(ours.exec('ip', ['-6', 'rule', 'show'])).toContain(`from ${v6} lookup 101`);
    expect(ours.exec('ip', ['-6', 'route', 'get', UPLINK.outside6, 'from', v6])).toMatch(/ dev net1 table 101 /);
    const rules6 = (ns: TestNetns) => ns.exec('ip', ['-6', 'rule', 'show']).replace(/fd75::[0-9a-f]+/g, 'fd75::X');
    const table6 = (ns: TestNetns) =>
      ns
        .exec('ip', ['-6', 'route', 'show', 'table', '101'])
        .replace(/fd75::[0-9a-f]+/g, 'fd75::X')
        .replace(/ expires \d+sec/g, '');
    expect(rules6(ours)).toBe(rules6(theirs));
    expect(table6(ours)).toBe(table6(theirs));
  });

  it('makes the rules and table routes the reference sbr makes', async () => {
    if (!existsSync(REFERENCE)) throw new Error(`${REFERENCE} is not installed (containernetworking-plugins): the comparison cannot run`);
    const ours = pool.make('ours');
    const theirs = pool.make('theirs');
    const a = (await twoNetworks(ours)).side;
    const b = (await twoNetworks(theirs)).side;
    ok(await run('sbr', 'ADD', ours, 'net1', sbrConf(a.json)));
    const reference = await execPlugin(REFERENCE, {
      command: 'ADD',
      containerId: 'ref',
      netns: theirs.path,
      ifname: 'net1',
      stdin: sbrConf(b.json),
      inNetns: host.name,
      path: '/usr/lib/cni',
    });
    ok(reference);
    expect(routing(ours)).toBe(routing(theirs));
  });
});
