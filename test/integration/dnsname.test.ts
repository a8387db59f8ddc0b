import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN_DIR, execGc, execPlugin, type PluginOutcome } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture, type NodeFixture } from '../helpers/node-fixture';
import { UPLINK } from '../helpers/topology';

let node: NodeFixture;
const pool = useNodeFixture('cnit-dns-', (fixture) => (node = fixture));

const DNS_HELPER = join(__dirname, '..', 'helpers', 'dns.mjs');
const DOMAIN = 'dns.podman';
const nets = { a: { name: 'dnsa', octet: 71 }, b: { name: 'dnsb', octet: 72 } };
type Net = (typeof nets)['a'];
const gateway4 = (net: Net) => `10.${net.octet}.0.1`;
const gateway6 = (net: Net) => `fd${net.octet}::1`;

const base = () => join(node.dir, 'run', 'containers', 'cni', 'dnsname');
const env = () => ({ CNI_TS_STATE_DIR: join(node.dir, 'state'), XDG_RUNTIME_DIR: join(node.dir, 'run') });
const bridgeConf = (net: Net) => ({
  cniVersion: '1.0.0',
  name: net.name,
  type: 'bridge',
  bridge: `cni${net.name}0`,
  isGateway: true,
  isDefaultGateway: true,
  ipam: { type: 'host-local', dataDir: join(node.dir, 'ipam'), ranges: [[{ subnet: `10.${net.octet}.0.0/24` }], [{ subnet: `fd${net.octet}::/64` }]] },
});
const dnsnameConf = (net: Net, prevResult?: object, aliases?: string[]) => ({
  cniVersion: '1.0.0',
  name: net.name,
  type: 'dnsname',
  domainName: DOMAIN,
  capabilities: { aliases: true },
  ...(aliases ? { runtimeConfig: { aliases: { [net.name]: aliases } } } : {}),
  ...(prevResult ? { prevResult } : {}),
});

const ok = (r: PluginOutcome) => expect(r.code, r.stdout + r.stderr).toBe(0);
const run = (plugin: string, command: string, ctr: TestNetns, stdin: object, name: string, ifname = 'eth0') =>
  execPlugin(plugin, {
    command,
    containerId: `id-${ctr.name}`,
    netns: ctr.path,
    ifname,
    cniArgs: `IgnoreUnknown=1;K8S_POD_NAME=${name}`,
    stdin,
    inNetns: node.host.name,
    env: env(),
  });

/** bridge then dnsname, as Podman runs its conflist; returns dnsname's result. */
async function attach(ctr: TestNetns, name: string, net: Net = nets.a, aliases?: string[], ifname = 'eth0'): Promise<PluginOutcome> {
  const bridge = await run('bridge', 'ADD', ctr, bridgeConf(net), name, ifname);
  ok(bridge);
  const dns = await run('dnsname', 'ADD', ctr, dnsnameConf(net, bridge.json, aliases), name, ifname);
  ok(dns);
  return dns;
}

interface Answer {
  rcode: number;
  answers: string[];
}
/** One query from inside `ns`; undefined when the server does not answer. */
function ask(ns: TestNetns, server: string, name: string, type: 'A' | 'AAAA' = 'A'): Answer | undefined {
  const r = spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, DNS_HELPER, 'ask', server, name, type], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? (JSON.parse(r.stdout) as Answer) : undefined;
}
/** The answer once it matches (dnsmasq reloads its hosts file asynchronously after SIGHUP). */
async function settle(query: () => Answer | undefined, want: (a: Answer | undefined) => boolean): Promise<Answer | undefined> {
  let answer = query();
  for (let i = 0; i < 25 && !want(answer); i++) {
    await new Promise((r) => setTimeout(r, 100));
    answer = query();
  }
  return answer;
}
const resolves = (ns: TestNetns, server: string, name: string, type: 'A' | 'AAAA' = 'A') =>
  settle(
    () => ask(ns, server, name, type),
    (a) => a?.rcode === 0 && a.answers.length > 0,
  ).then((a) => a?.answers ?? []);
const nxdomain = (ns: TestNetns, server: string, name: string) =>
  settle(
    () => ask(ns, server, name),
    (a) => a?.rcode === 3,
  ).then((a) => a?.rcode === 3);

/** The dnsmasq processes serving `net` (by the config file on their command line). */
function dnsmasqPids(net: Net): number[] {
  const conf = `--conf-file=${join(base(), net.name, 'dnsmasq.conf')}`;
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(conf);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const addressOf = (r: PluginOutcome, family: 4 | 6) => r.json.ips.map((i: { address: string }) => i.address.split('/')[0]).find((a: string) => a.includes(':') === (family === 6));

// dnsmasq forwards what is not its own to the host's resolvers: `ip netns exec` shows the
// host namespace /etc/netns/<name>/resolv.conf as /etc/resolv.conf, and dnsmasq inherits that view
let resolvDir: string | undefined;
function upstreamResolver(): void {
  resolvDir = join('/etc/netns', node.host.name);
  mkdirSync(resolvDir, { recursive: true });
  writeFileSync(join(resolvDir, 'resolv.conf'), `nameserver ${UPLINK.outside4}\n`);
}
/** The test's upstream resolver in the outside namespace: upstream.example -> 192.0.2.55. */
let upstream: ChildProcess | undefined;
async function serveUpstream(): Promise<void> {
  upstreamResolver();
  upstream = spawn('ip', ['netns', 'exec', node.outside.name, process.execPath, DNS_HELPER, 'serve', UPLINK.outside4, 'upstream.example', '192.0.2.55'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => upstream!.stdout!.once('data', resolve));
}

afterEach(() => {
  upstream?.kill('SIGKILL');
  upstream = undefined;
  for (const net of Object.values(nets)) for (const pid of dnsmasqPids(net)) process.kill(pid, 'SIGKILL');
  if (resolvDir) rmSync(resolvDir, { recursive: true, force: true });
  resolvDir = undefined;
});

describe('dnsname: containers find each other by name', () => {
  it('answers name, name.domain and aliases with A and AAAA, forwards other names upstream, and forgets a name after DEL', async () => {
    await serveUpstream();
    const [api, web] = [pool.make('api'), pool.make('web')];
    const added = await attach(api, 'api', nets.a, ['backend', 'c0ffee123456']);
    // what Podman writes into the container's resolv.conf
    expect(added.json.dns).toEqual({ nameservers: [gateway4(nets.a), gateway6(nets.a)], search: [DOMAIN] });
    const webAdded = await attach(web, 'web');
    const [api4, api6] = [addressOf(added, 4), addressOf(added, 6)];

    expect(await resolves(web, gateway4(nets.a), 'api')).toEqual([api4]);
    expect(await resolves(web, gateway4(nets.a), `api.${DOMAIN}`)).toEqual([api4]);
    expect(await resolves(web, gateway4(nets.a), 'backend')).toEqual([api4]);
    expect(await resolves(web, gateway4(nets.a), `c0ffee123456.${DOMAIN}`)).toEqual([api4]);
    expect(await resolves(web, gateway4(nets.a), 'api', 'AAAA')).toEqual([api6]);
    expect(await resolves(api, gateway6(nets.a), `web.${DOMAIN}`)).toEqual([addressOf(webAdded, 4)]);
    expect(await resolves(api, gateway4(nets.a), 'upstream.example')).toEqual(['192.0.2.55']);
    expect(await nxdomain(web, gateway4(nets.a), `nobody.${DOMAIN}`)).toBe(true);

    ok(await run('dnsname', 'DEL', api, dnsnameConf(nets.a), 'api'));
    expect(await nxdomain(web, gateway4(nets.a), `api.${DOMAIN}`)).toBe(true);
    expect(await nxdomain(web, gateway4(nets.a), `backend.${DOMAIN}`)).toBe(true);
    expect(await resolves(api, gateway4(nets.a), 'web')).toEqual([addressOf(webAdded, 4)]);
  });

  it('listens only on the gateway addresses, never on a wildcard, loopback or the uplink', async () => {
    await attach(pool.make('c'), 'c');
    const sockets = node.host
      .exec('ss', ['-Hlnu', 'sport', '=', ':53'])
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[3]);
    expect(sockets.sort()).toEqual([`${gateway4(nets.a)}:53`, `[${gateway6(nets.a)}]:53`].sort());
  });

  it('a name that is not a DNS label is refused with 7 naming the field, and nothing is written', async () => {
    const cases: Array<[string, string[] | undefined, string]> = [
      ['evil\nlisten-address=0.0.0.0', undefined, 'CNI_ARGS K8S_POD_NAME'],
      ['ok', ['x y'], `runtimeConfig.aliases["${nets.a.name}"][0]`],
      ['ok', ['a#b'], `runtimeConfig.aliases["${nets.a.name}"][0]`],
      ['ok', ['fine', 'conf-file=/etc/x'], `runtimeConfig.aliases["${nets.a.name}"][1]`],
      ['-leading-dash', undefined, 'CNI_ARGS K8S_POD_NAME'],
    ];
    for (const [name, aliases, field] of cases) {
      const ctr = pool.make('c');
      const bridge = await run('bridge', 'ADD', ctr, bridgeConf(nets.a), 'x');
      ok(bridge);
      const r = await execPlugin('dnsname', {
        command: 'ADD',
        containerId: `id-${ctr.name}`,
        netns: ctr.path,
        ifname: 'eth0',
        cniArgs: `IgnoreUnknown=1;K8S_POD_NAME=${name}`,
        stdin: dnsnameConf(nets.a, bridge.json, aliases),
        inNetns: node.host.name,
        env: env(),
      });
      expect(r.json?.code, r.stdout).toBe(7);
      expect(r.json.msg).toContain(`"${field}"`);
      expect(existsSync(join(base(), nets.a.name))).toBe(false);
    }
    expect(dnsmasqPids(nets.a)).toEqual([]);
  });

  it('a dnsmasq that cannot start fails the ADD with 150 and leaves no line, record or server', async () => {
    // something else already answers DNS on the gateway address
    const ctr = pool.make('c');
    const bridge = await run('bridge', 'ADD', ctr, bridgeConf(nets.a), 'c');
    ok(bridge);
    const squatter = spawn('ip', ['netns', 'exec', node.host.name, process.execPath, DNS_HELPER, 'serve', gateway4(nets.a), 'x', '192.0.2.1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise((resolve) => squatter.stdout!.once('data', resolve));
      const r = await run('dnsname', 'ADD', ctr, dnsnameConf(nets.a, bridge.json), 'c');
      expect(r.json?.code, r.stdout).toBe(150);
      expect(r.json.msg).toContain('Address already in use');
      expect(readdirSync(join(base(), nets.a.name))).toEqual(['lock']);
      expect(dnsmasqPids(nets.a)).toEqual([]);
    } finally {
      squatter.kill('SIGKILL');
    }
  });

  it('a container name with dots (Podman allows "my.app") is a name too', async () => {
    const [app, peer] = [pool.make('c'), pool.make('c')];
    const added = await attach(app, 'my.app');
    await attach(peer, 'peer');
    expect(await resolves(peer, gateway4(nets.a), 'my.app')).toEqual([addressOf(added, 4)]);
    expect(await resolves(peer, gateway4(nets.a), `my.app.${DOMAIN}`)).toEqual([addressOf(added, 4)]);
  });

  it('64 concurrent ADDs on a new network start exactly one dnsmasq, and every name is there afterwards', async () => {
    const ctrs = Array.from({ length: 64 }, () => pool.make('c'));
    const added = await Promise.all(ctrs.map((c, i) => attach(c, `svc${i}`)));
    expect(dnsmasqPids(nets.a)).toHaveLength(1);
    const lines = readFileSync(join(base(), nets.a.name, 'addnhosts'), 'utf8')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(128);
    for (const i of [0, 17, 63]) expect(await resolves(ctrs[0], gateway4(nets.a), `svc${i}`)).toEqual([addressOf(added[i], 4)]);
    await Promise.all(ctrs.map(async (c, i) => ok(await run('dnsname', 'DEL', c, dnsnameConf(nets.a), `svc${i}`))));
    expect(dnsmasqPids(nets.a)).toEqual([]);
    expect(readdirSync(join(base(), nets.a.name))).toEqual(['lock']);
  });

  it('a dnsmasq killed from outside fails CHECK and STATUS, and the next ADD starts it again with every name', async () => {
    const [one, two] = [pool.make('c'), pool.make('c')];
    const first = await attach(one, 'one');
    const [pid] = dnsmasqPids(nets.a);
    process.kill(pid, 'SIGKILL');
    const check = await run('dnsname', 'CHECK', one, dnsnameConf(nets.a, first.json), 'one');
    expect(check.json?.code, check.stdout).toBe(140);
    expect(check.json.msg).toContain('is not running');
    const status = await execPlugin('dnsname', { command: 'STATUS', stdin: { ...dnsnameConf(nets.a), cniVersion: '1.1.0' }, inNetns: node.host.name, env: env() });
    expect(status.json?.code, status.stdout).toBe(50);

    await attach(two, 'two');
    expect(dnsmasqPids(nets.a)).toHaveLength(1);
    expect(dnsmasqPids(nets.a)[0]).not.toBe(pid);
    expect(await resolves(two, gateway4(nets.a), 'one')).toEqual([addressOf(first, 4)]);
    ok(await run('dnsname', 'CHECK', one, dnsnameConf(nets.a, first.json), 'one'));
  });

  it('STATUS fails with 50 naming dnsmasq when it is not installed, and ADD refuses before writing anything', () => {
    // a private mount namespace where /usr/sbin/dnsmasq is /dev/null (not executable); PATH without it
    const hide = (command: string, stdin: object) =>
      spawnSync(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          'sh',
          '-c',
          'mount --bind /dev/null /usr/sbin/dnsmasq && exec "$@"',
          'sh',
          'ip',
          'netns',
          'exec',
          node.host.name,
          join(BIN_DIR, 'dnsname'),
        ],
        {
          input: JSON.stringify(stdin),
          encoding: 'utf8',
          env: { PATH: '/usr/bin:/bin', CNI_COMMAND: command, CNI_PATH: BIN_DIR, CNI_CONTAINERID: 'x', CNI_NETNS: pool.make('c').path, CNI_IFNAME: 'eth0', ...env() },
        },
      );
    const status = hide('STATUS', { ...dnsnameConf(nets.a), cniVersion: '1.1.0' });
    expect(JSON.parse(status.stdout)).toMatchObject({ code: 50, msg: expect.stringContaining('dnsmasq is not installed') });
    const add = hide('ADD', dnsnameConf(nets.a, { cniVersion: '1.0.0', interfaces: [{ name: 'cnidnsa0' }], ips: [{ address: '10.71.0.9/24' }] }));
    expect(JSON.parse(add.stdout)).toMatchObject({ code: 50 });
    expect(existsSync(join(base(), nets.a.name))).toBe(false);
  });

  it('DEL works without the netns and without prevResult; GC removes stale names and stops a dnsmasq that serves nobody', async () => {
    const [gone, kept] = [pool.make('c'), pool.make('c')];
    await attach(gone, 'gone');
    const keptAdded = await attach(kept, 'kept');
    gone.destroy();
    ok(await run('dnsname', 'DEL', gone, dnsnameConf(nets.a), 'gone'));
    expect(await nxdomain(kept, gateway4(nets.a), 'gone.dns.podman')).toBe(true);
    ok(await run('dnsname', 'DEL', gone, dnsnameConf(nets.a), 'gone'));

    const stale = pool.make('c');
    await attach(stale, 'stale');
    const gc = (valid: string[]) => execGc('dnsname', dnsnameConf(nets.a), valid, { inNetns: node.host.name, env: env() });
    ok(await gc([`id-${kept.name}`]));
    expect(await nxdomain(kept, gateway4(nets.a), 'stale.dns.podman')).toBe(true);
    expect(await resolves(kept, gateway4(nets.a), 'kept')).toEqual([addressOf(keptAdded, 4)]);
    ok(await gc([]));
    expect(dnsmasqPids(nets.a)).toEqual([]);
  });

  it('a container on two networks is found by name on both; disconnecting one removes only its names', async () => {
    const [both, onA, onB] = [pool.make('c'), pool.make('c'), pool.make('c')];
    const inA = await attach(both, 'both', nets.a, ['both-a']);
    const inB = await attach(both, 'both', nets.b, ['both-b'], 'eth1');
    await attach(onA, 'ona', nets.a);
    await attach(onB, 'onb', nets.b);
    expect(await resolves(onA, gateway4(nets.a), 'both')).toEqual([addressOf(inA, 4)]);
    expect(await resolves(onB, gateway4(nets.b), 'both')).toEqual([addressOf(inB, 4)]);
    expect(await nxdomain(onB, gateway4(nets.b), 'both-a.dns.podman')).toBe(true);
    expect(dnsmasqPids(nets.a)).toHaveLength(1);
    expect(dnsmasqPids(nets.b)).toHaveLength(1);
    // a default route through each network, as the reference's RouteAddEcmp leaves them
    const defaults = () =>
      both
        .ipJson<Array<{ dst: string; gateway: string }>>('route', 'show', 'default')
        .map((r) => r.gateway)
        .sort();
    expect(defaults()).toEqual([gateway4(nets.a), gateway4(nets.b)]);

    // podman network disconnect: DEL of eth1 on the second network
    ok(await run('dnsname', 'DEL', both, dnsnameConf(nets.b), 'both', 'eth1'));
    ok(await run('bridge', 'DEL', both, bridgeConf(nets.b), 'both', 'eth1'));
    expect(await nxdomain(onB, gateway4(nets.b), 'both.dns.podman')).toBe(true);
    expect(await resolves(onA, gateway4(nets.a), 'both')).toEqual([addressOf(inA, 4)]);
    expect(
      both
        .ipJson<Array<{ ifname: string }>>('link', 'show')
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['eth0', 'lo']);
    expect(defaults()).toEqual([gateway4(nets.a)]);
  });
});
