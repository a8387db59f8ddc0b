import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readdirIfExists } from '../../lib/fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCnitool } from '../helpers/cnitool';
import { BIN_DIR } from '../helpers/exec-plugin';
import { useNodeFixture, type NodeFixture } from '../helpers/node-fixture';
import { addChain, chainConfs, chainEnv, inHost, suiteElements, type ChainPlugin } from '../helpers/podman-chain';

let node: NodeFixture;
const pool = useNodeFixture('cnit-cts-', (fixture) => (node = fixture));
const NET = { name: 'cts', octet: 74 };
const PLUGINS: ChainPlugin[] = ['bridge', 'portmap', 'firewall', 'tuning'];

/** The chain's conflist where cni-ts (and a runtime) find it; `extra` adds plugins. */
function writeConflist(extra: object[] = [], name = NET.name): string {
  const dir = join(node.dir, 'net.d');
  mkdirSync(dir, { recursive: true });
  const confs = chainConfs(node, NET);
  writeFileSync(join(dir, `${name}.conflist`), JSON.stringify({ cniVersion: '1.1.0', name, plugins: [...PLUGINS.map((p) => confs[p]), ...extra] }));
  return dir;
}

function cniTs(...args: string[]): { status: number; stdout: string; json: any } {
  const r = spawnSync(
    'ip',
    ['netns', 'exec', node.host.name, join(BIN_DIR, 'cni-ts'), ...args, '--conf-dir', join(node.dir, 'net.d'), '--cache-dir', join(node.dir, 'cache'), '--bin-dir', BIN_DIR],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...chainEnv(node) },
    },
  );
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { status: r.status ?? -1, stdout: r.stdout + r.stderr, json };
}

/** A fix doctor printed, run as an operator would paste it (a shell, cni-ts on the PATH), in the host namespace. */
function runFix(fix: string): { status: number; stdout: string } {
  const r = spawnSync('ip', ['netns', 'exec', node.host.name, 'sh', '-c', fix], { encoding: 'utf8', env: { PATH: `${BIN_DIR}:${process.env.PATH}` } });
  return { status: r.status ?? -1, stdout: r.stdout + r.stderr };
}

const findings = (json: { findings: Array<{ status: string; check: string; detail: string; fix?: string }> }) => json.findings;

describe('cni-ts', () => {
  it('ls shows each container with its addresses, host veth, ports, masquerade and firewall entries, and the range use', async () => {
    writeConflist();
    const ctr = pool.make('c');
    const bridge = await addChain(node, NET, ctr, PLUGINS);
    const ls = cniTs('ls', '--json');
    expect(ls.status, ls.stdout).toBe(0);
    const net = ls.json.networks.find((n: { name: string }) => n.name === NET.name);
    expect(net.plugins).toEqual(PLUGINS);
    expect(net.ranges.map((r: { used: number }) => r.used)).toEqual([1, 1]);
    const [a] = net.attachments;
    const ip4 = bridge.json.ips[0].address.split('/')[0];
    expect(a).toMatchObject({ containerId: `ctr-${ctr.name}`, ifname: 'eth0', netns: ctr.path, netnsExists: true, hostVeth: bridge.json.interfaces[1].name });
    expect(a.addresses).toContain(ip4);
    expect(a.ports).toContain(`tcp 0.0.0.0:8080 -> ${ip4}:80`);
    expect(a.masquerade).toContain(ip4);
    expect(a.firewall.join(' ')).toContain(`${ip4}/32`);

    const table = cniTs('ls');
    expect(table.stdout).toMatch(new RegExp(`ctr-${ctr.name}\\s+eth0\\s+${ctr.path}\\s+${ip4.replaceAll('.', '\\.')}`));
    expect(cniTs('inspect', 'ctr-').json).toEqual([{ network: NET.name, ...a }]);
    expect(cniTs('inspect', 'nobody').status).toBe(2);
  });

  it('doctor: healthy, then a flushed ruleset fails with the fix, and cni-ts reapply makes it healthy again', async () => {
    writeConflist();
    await addChain(node, NET, pool.make('c'), PLUGINS);
    const healthy = cniTs('doctor', '--json');
    expect(healthy.status, healthy.stdout).toBe(0);
    expect(findings(healthy.json).filter((f) => f.status !== 'ok')).toEqual([]);

    inHost(node, 'nft', 'flush', 'ruleset');
    const broken = cniTs('doctor', '--json');
    expect(broken.status).toBe(1);
    const finding = findings(broken.json).find((f) => f.check === 'port mappings' && f.status === 'fail');
    expect(finding?.fix).toMatch(/cni-ts reapply/);
    // the fix works as printed
    expect(runFix(finding!.fix!).status).toBe(0);
    expect(cniTs('doctor').status).toBe(0);
  });

  it('doctor names a plugin that is not installed, an element nobody owns, and a FORWARD drop policy without the firewall plugin', async () => {
    writeConflist([{ type: 'no-such-plugin' }]);
    writeFileSync(join(node.dir, 'net.d', 'bare.conflist'), JSON.stringify({ cniVersion: '1.1.0', name: 'bare', plugins: [{ type: 'bridge', bridge: 'cnibare0' }] }));
    await addChain(node, NET, pool.make('c'), PLUGINS);
    inHost(node, 'nft', 'add', 'element', 'inet', 'cni_ts', 'portmap4', '{ tcp . 9999 : 10.74.0.250 . 80 }');
    inHost(node, 'iptables', '-P', 'FORWARD', 'DROP');
    const r = cniTs('doctor', '--json');
    expect(r.status).toBe(1);
    const all = findings(r.json);
    expect(all).toContainEqual(expect.objectContaining({ check: `network ${NET.name}`, status: 'fail', detail: expect.stringContaining('no-such-plugin') }));
    expect(all).toContainEqual(
      expect.objectContaining({ status: 'warn', detail: expect.stringContaining('{ tcp . 9999 }'), fix: "nft delete element inet cni_ts portmap4 '{ tcp . 9999 }'" }),
    );
    expect(all).toContainEqual(expect.objectContaining({ check: 'iptables FORWARD', status: 'fail', detail: expect.stringContaining('bare') }));
    expect(all.find((f) => f.check === 'iptables FORWARD')!.detail).not.toContain(NET.name);
  });

  const bridgeNetfilterOn = () => {
    try {
      return inHost(node, 'cat', '/proc/sys/net/bridge/bridge-nf-call-iptables').trim() === '1';
    } catch {
      return false;
    }
  };
  it('doctor warns when br_netfilter is on and a network publishes ports without hairpinMode (skipped where br_netfilter is not loaded)', async (ctx) => {
    if (!bridgeNetfilterOn()) ctx.skip();
    writeConflist();
    writeFileSync(
      join(node.dir, 'net.d', 'nohairpin.conflist'),
      JSON.stringify({
        cniVersion: '1.1.0',
        name: 'nohairpin',
        plugins: [
          { type: 'bridge', bridge: 'cninh0' },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      }),
    );
    const all = findings(cniTs('doctor', '--json').json);
    expect(all).toContainEqual(expect.objectContaining({ check: 'br_netfilter', status: 'warn', detail: expect.stringContaining('nohairpin') }));
  });

  it('gc lists containers whose namespace is gone and, with --yes, removes them through their DEL chain', async () => {
    writeConflist();
    const [gone, kept] = [pool.make('c'), pool.make('c')];
    const goneResult = await addChain(node, NET, gone, PLUGINS);
    await addChain(node, NET, kept, ['bridge', 'firewall', 'tuning']);
    const goneIP = goneResult.json.ips[0].address.split('/')[0];
    gone.destroy();
    expect(findings(cniTs('doctor', '--json').json)).toContainEqual(
      expect.objectContaining({ status: 'warn', fix: expect.stringContaining('cni-ts gc --yes'), detail: expect.stringContaining(`ctr-${gone.name}`) }),
    );

    const dry = cniTs('gc');
    expect(dry.stdout).toContain(`ctr-${gone.name} eth0: namespace ${gone.path} is gone`);
    expect(suiteElements(node).some((e) => e.includes(goneIP))).toBe(true);
    const wet = cniTs('gc', '--yes');
    expect(wet.status, wet.stdout).toBe(0);
    expect(wet.stdout).toContain('removed 1 of 1');
    expect(suiteElements(node).some((e) => e.includes(goneIP))).toBe(false);
    const ls = cniTs('ls', '--json').json.networks.find((n: { name: string }) => n.name === NET.name);
    expect(ls.attachments.map((a: { containerId: string }) => a.containerId)).toEqual([`ctr-${kept.name}`]);
  });

  it("gc removes what a network whose config is gone left behind, from its records alone; doctor's printed fix does it, a second gc finds nothing", async () => {
    const GONE = { name: 'ctsgone', octet: 75 };
    const confDir = writeConflist();
    const confs = chainConfs(node, GONE);
    const goneFile = join(confDir, `${GONE.name}.conflist`);
    writeFileSync(goneFile, JSON.stringify({ cniVersion: '1.1.0', name: GONE.name, plugins: PLUGINS.map((p) => confs[p]) }));
    const [a, b, kept] = [pool.make('a'), pool.make('b'), pool.make('k')];
    const ra = await addChain(node, GONE, a, PLUGINS);
    const rb = await addChain(node, GONE, b, ['bridge', 'firewall', 'tuning']);
    const rk = await addChain(node, NET, kept, ['bridge', 'firewall', 'tuning']);
    const ipOf = (r: typeof ra) => r.json.ips[0].address.split('/')[0];
    // the network's config goes first, then its containers' namespaces (no DEL ran)
    rmSync(goneFile);
    a.destroy();
    b.destroy();

    const gone = findings(cniTs('doctor', '--json').json).filter((f) => f.check === `network ${GONE.name}`);
    expect(gone).toHaveLength(2);
    for (const ctr of [a, b]) expect(gone.map((f) => f.detail).join('\n')).toContain(`ctr-${ctr.name}`);
    const fix = runFix(gone[0].fix!);
    expect(fix.status, fix.stdout).toBe(0);
    expect(fix.stdout).toContain('removed 2 of 2');
    expect(fix.stdout).toContain('no config file and no cached config');

    // nothing of the removed network is left: elements, records, reservations; the other keeps everything
    const elements = suiteElements(node);
    expect(elements.filter((e) => e.includes(ipOf(ra)) || e.includes(ipOf(rb)))).toEqual([]);
    expect(elements.some((e) => e.includes(ipOf(rk)))).toBe(true);
    expect(readdirIfExists(join(node.dir, 'ipam', GONE.name)).filter((f) => f.startsWith('10.') || f.startsWith('fd'))).toEqual([]);
    const ls = cniTs('ls', '--json').json.networks.map((n: { name: string; attachments: Array<{ containerId: string }> }) => [n.name, n.attachments.map((x) => x.containerId)]);
    expect(ls).toEqual([[NET.name, [`ctr-${kept.name}`]]]);
    expect(findings(cniTs('doctor', '--json').json).filter((f) => f.status !== 'ok')).toEqual([]);
    const again = cniTs('gc', '--yes');
    expect(again.status, again.stdout).toBe(0);
    expect(again.stdout).toContain('no container whose namespace is gone');
  });

  it('gc of a network whose config is gone runs the DEL chain libcni cached with the attachment', async () => {
    const CACHED = { name: 'ctscache', octet: 76 };
    const confDir = writeConflist();
    const confs = chainConfs(node, CACHED);
    const file = join(confDir, `${CACHED.name}.conflist`);
    writeFileSync(file, JSON.stringify({ cniVersion: '1.1.0', name: CACHED.name, plugins: (['bridge', 'firewall', 'tuning'] as const).map((p) => confs[p]) }));
    const ctr = pool.make('c');
    const add = runCnitool(node.host, node.dir, ['add', CACHED.name, ctr.path]);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    const ip = (add.json as { ips: Array<{ address: string }> }).ips[0].address.split('/')[0];
    rmSync(file);
    ctr.destroy();

    const gc = cniTs('gc', '--yes');
    expect(gc.status, gc.stdout).toBe(0);
    expect(gc.stdout).toContain('ran the DEL chain libcni cached with it');
    expect(suiteElements(node).filter((e) => e.includes(ip))).toEqual([]);
    expect(readdirIfExists(join(node.dir, 'ipam', CACHED.name)).filter((f) => f.startsWith('10.'))).toEqual([]);
    expect(readdirIfExists(join(node.dir, 'cache', 'results'))).toEqual([]);
  });
});
