import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readdirIfExists } from '../../lib/fs';
import { cacheFiles, hostVeths, ipamFiles, runCnitool, stateRecords } from '../helpers/cnitool';
import { type DhcpNet, dnsmasqLeases, dnsmasqLog, startDhcpDaemon, startDnsmasq, useProcessGroups } from '../helpers/dhcp-lan';
import { startFirewalld } from '../helpers/firewalld';
import { until } from '../helpers/poll';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { UPLINK } from '../helpers/topology';

/** cnitool drives every conflist of conf-examples/ unchanged, apart from where the stores live. */
const EXAMPLES = join(__dirname, '..', '..', 'conf-examples');
const files = readdirSync(EXAMPLES).filter((f) => /\.(conflist|conf|json)$/.test(f));

let dir: string;
let host: TestNetns;
let outside: TestNetns;
const pool = useNodeFixture('cnit-examples-', (node) => ({ dir, host, outside } = node));
// registered after the node's hooks, so run before them: dnsmasq and the daemon go before their namespaces
const start = useProcessGroups();

interface PluginConf {
  type: string;
  ipam?: { type?: string; dataDir?: string; daemonSocketPath?: string };
  dataDir?: string;
  capabilities?: Record<string, boolean>;
  master?: string;
  backend?: string;
  firewalldZone?: string;
}

/** The example with host-local's and tuning's stores, and the dhcp daemon's socket, moved into the test's directory. */
function install(file: string): { name: string; cniVersion: string; plugins: PluginConf[] } {
  const list = JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8'));
  for (const plugin of list.plugins as PluginConf[]) {
    if (plugin.ipam?.type === 'dhcp') plugin.ipam.daemonSocketPath = join(dir, 'dhcp.sock');
    else if (plugin.ipam) plugin.ipam.dataDir = join(dir, 'ipam');
    if (plugin.type === 'tuning') plugin.dataDir = join(dir, 'tuning');
  }
  mkdirSync(join(dir, 'net.d'), { recursive: true });
  writeFileSync(join(dir, 'net.d', file), JSON.stringify(list));
  return list;
}

const qdiscs = (host: TestNetns, dev: string): Array<{ kind: string; options?: Record<string, unknown> }> => JSON.parse(host.exec('tc', ['-j', 'qdisc', 'show', 'dev', dev]));

/**
 * What a macvlan example expects of the node: the NIC it names (eth1 of a Multus attachment), made
 * here as a macvlan of the node's uplink (not a veth, which the end checks count), or, when it
 * names none (Podman without `-o parent`), a default route, whose interface it takes.
 */
function provideMasters(plugins: PluginConf[]): void {
  for (const plugin of plugins) {
    if (plugin.type !== 'macvlan') continue;
    if (!plugin.master) host.exec('ip', ['route', 'replace', 'default', 'via', UPLINK.outside4]);
    else if (!host.ipJson<Array<{ ifname: string }>>('link', 'show').some((l) => l.ifname === plugin.master)) {
      host.exec('ip', ['link', 'add', plugin.master, 'link', 'uplink0', 'type', 'macvlan', 'mode', 'bridge']);
      host.exec('ip', ['link', 'set', plugin.master, 'up']);
    }
  }
}

/** The LAN behind the node's uplink, where a macvlan of it (a master made by provideMasters, or the default route's NIC) is. */
const UPLINK_LAN: DhcpNet = { iface: 'uplink1', prefix: '198.51.100', server: UPLINK.outside4, first: 50, last: 99 };

/**
 * What a dhcp example expects of the node: a DHCP server on the LAN its macvlan master is on
 * (dnsmasq in the outside namespace, on the uplink's far end) and the dhcp daemon, in the node's
 * namespace, on the socket install() points the plugin at.
 */
async function provideDhcp(plugins: PluginConf[]): Promise<{ stop(): Promise<void> } | undefined> {
  if (!plugins.some((p) => p.ipam?.type === 'dhcp')) return undefined;
  await startDnsmasq(start, outside, dir, UPLINK_LAN);
  const daemon = await startDhcpDaemon(start, join(dir, 'dhcp.sock'), join(dir, 'dhcp-leases'), [], host);
  return {
    // as a node's service manager stops it (SIGTERM to its group): it cleans up, removing its socket, and keeps no lease
    async stop() {
      await daemon.stop('SIGTERM');
      expect(daemon.output()).toContain('"msg":"stopping"');
      expect(existsSync(join(dir, 'dhcp.sock'))).toBe(false);
      expect(readdirIfExists(join(dir, 'dhcp-leases')).filter((f) => f.endsWith('.json'))).toEqual([]);
    },
  };
}

/**
 * What a firewalld example expects of the node: firewalld running (in the node's namespace, on a
 * private bus the plugins are pointed at). Returns the zone's sources for the checks.
 */
async function provideFirewalld(plugins: PluginConf[]): Promise<{ env: Record<string, string>; sources(): string[] } | undefined> {
  const firewall = plugins.find((p) => p.type === 'firewall' && p.backend === 'firewalld');
  if (!firewall) return undefined;
  const fw = await startFirewalld(host, dir);
  return {
    env: { DBUS_SYSTEM_BUS_ADDRESS: fw.busAddress },
    sources: () =>
      fw
        .cmd(`--zone=${firewall.firewalldZone ?? 'trusted'}`, '--list-sources')
        .trim()
        .split(/\s+/)
        .filter(Boolean),
  };
}

/** dnsmasq's hex form of a client id (type 0) back to its text. */
const clientIdText = (hex: string) => Buffer.from(hex.replaceAll(':', ''), 'hex').subarray(1).toString();

/** Whether this kernel can make a VRF (in a namespace of its own, gone when `ip` exits); only the kernel's "unknown type" answer says no. */
const vrfProbe = spawnSync('unshare', ['--net', 'ip', 'link', 'add', 'probe', 'type', 'vrf', 'table', '1'], { encoding: 'utf8' });
const kernelHasVrf = !/Unknown device type|not supported/i.test(vrfProbe.stderr ?? '');
/** Examples whose link type this kernel lacks run in the kernel lab instead (test/lab/conf-examples.lab.mjs). */
const needsLab = (file: string) => !kernelHasVrf && (JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')).plugins as PluginConf[]).some((p) => p.type === 'vrf');

describe.each(files)('cnitool with conf-examples/%s', (file) => {
  it.skipIf(needsLab(file))(
    `add, check and del succeed, the result is in the conflist's version, and nothing is left${needsLab(file) ? ' (not on this kernel, which has no VRF: the kernel lab runs it)' : ''}`,
    async () => {
      const list = install(file);
      const ctr = pool.make('c');
      const wants = (capability: string) => list.plugins.some((p) => p.capabilities?.[capability]);
      // as a kubelet passes kubernetes.io/ingress-bandwidth and egress-bandwidth (bits per second)
      const capArgs = {
        ...(wants('portMappings') ? { portMappings: [{ hostPort: 18081, containerPort: 80, protocol: 'tcp' }] } : {}),
        ...(wants('bandwidth') ? { bandwidth: { ingressRate: 10_000_000, ingressBurst: 2_147_483_647, egressRate: 20_000_000, egressBurst: 2_147_483_647 } } : {}),
      };
      const env: Record<string, string> = {
        ...(Object.keys(capArgs).length ? { CAP_ARGS: JSON.stringify(capArgs) } : {}),
        // dnsname: the container's name as Podman passes it, and its dnsmasq's files in the test's directory
        CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=example',
        XDG_RUNTIME_DIR: join(dir, 'run'),
      };

      provideMasters(list.plugins);
      const dhcp = await provideDhcp(list.plugins);
      const firewalld = await provideFirewalld(list.plugins);
      Object.assign(env, firewalld?.env);
      const add = runCnitool(host, dir, ['add', list.name, ctr.path], env);
      expect(add.code, add.stdout + add.stderr).toBe(0);
      if (firewalld) expect(firewalld.sources()).toEqual(add.json.ips.map((ip: { address: string }) => `${ip.address.split('/')[0]}/32`));
      if (dhcp) {
        // the result's address is the server's one lease, for the reference's client id (<container id>/<network>/<ifname>)
        expect(add.json.ips).toEqual([expect.objectContaining({ address: expect.stringMatching(/^198\.51\.100\.\d+\/24$/), gateway: UPLINK.outside4 })]);
        const leases = dnsmasqLeases(dir);
        expect(leases).toEqual([expect.objectContaining({ ip: add.json.ips[0].address.split('/')[0] })]);
        expect(clientIdText(leases[0].clientId)).toMatch(new RegExp(`^cnitool-[0-9a-f]+/${list.name}/eth0$`));
      }
      expect(add.json.cniVersion).toBe(list.cniVersion);
      // 0.4.0 results carry ips[].version; 1.x results do not
      for (const ip of add.json.ips ?? []) expect('version' in ip).toBe(list.cniVersion.startsWith('0.'));
      const dnsDir = join(dir, 'run', 'containers', 'cni', 'dnsname', list.name);
      if (list.plugins.some((p) => p.type === 'dnsname')) {
        expect(readFileSync(join(dnsDir, 'addnhosts'), 'utf8')).toContain('\texample\n');
        expect(add.json.dns.search).toEqual(['dns.podman']);
      }
      if (wants('bandwidth')) {
        // the ingress limit on the host veth, the egress limit on the ifb the container's traffic is redirected to
        const ifb = add.json.interfaces.find((i: { name: string }) => i.name.startsWith('bwp'));
        expect(ifb, JSON.stringify(add.json.interfaces)).toBeDefined();
        expect(qdiscs(host, ifb.name)).toContainEqual(expect.objectContaining({ kind: 'tbf', options: expect.objectContaining({ rate: 20_000_000 / 8 }) }));
      }
      const check = runCnitool(host, dir, ['check', list.name, ctr.path], env);
      expect(check.code, check.stdout + check.stderr).toBe(0);

      const del = runCnitool(host, dir, ['del', list.name, ctr.path], env);
      expect(del.code, del.stdout + del.stderr).toBe(0);
      if (dhcp) {
        // DEL released the lease (DHCPRELEASE): dnsmasq forgot it; then the daemon stops cleanly
        await until('dnsmasq to forget the lease', () => dnsmasqLeases(dir).length === 0, 5000);
        expect(dnsmasqLog(dir)).toMatch(/DHCPRELEASE\(uplink1\) 198\.51\.100\.\d+/);
        await dhcp.stop();
      }
      if (firewalld) expect(firewalld.sources()).toEqual([]);
      expect(hostVeths(host)).toEqual([]);
      expect(host.ipJson<Array<{ ifname: string }>>('link', 'show').filter((l) => l.ifname.startsWith('bwp'))).toEqual([]);
      expect(ipamFiles(join(dir, 'ipam'), list.name)).toEqual([]);
      expect(stateRecords(dir)).toEqual([]);
      expect(cacheFiles(dir)).toEqual([]);
      // the last container's DEL stops its network's dnsmasq and removes its files
      expect(readdirIfExists(dnsDir).filter((f) => !['attachments', 'lock', 'owners'].includes(f))).toEqual([]);
    },
  );
});
