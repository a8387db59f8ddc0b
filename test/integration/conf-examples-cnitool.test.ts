import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readdirIfExists } from '../../lib/fs';
import { cacheFiles, hostVeths, ipamFiles, runCnitool, stateRecords } from '../helpers/cnitool';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { UPLINK } from '../helpers/topology';

/** cnitool drives every conflist of conf-examples/ unchanged, apart from where the stores live. */
const EXAMPLES = join(__dirname, '..', '..', 'conf-examples');
const files = readdirSync(EXAMPLES).filter((f) => /\.(conflist|conf|json)$/.test(f));

let dir: string;
let host: TestNetns;
const pool = useNodeFixture('cnit-examples-', (node) => ({ dir, host } = node));

interface PluginConf {
  type: string;
  ipam?: { dataDir?: string };
  dataDir?: string;
  capabilities?: Record<string, boolean>;
  master?: string;
}

/** The example with host-local's and tuning's stores moved into the test's directory. */
function install(file: string): { name: string; cniVersion: string; plugins: PluginConf[] } {
  const list = JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8'));
  for (const plugin of list.plugins as PluginConf[]) {
    if (plugin.ipam) plugin.ipam.dataDir = join(dir, 'ipam');
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

describe.each(files)('cnitool with conf-examples/%s', (file) => {
  it("add, check and del succeed, the result is in the conflist's version, and nothing is left", () => {
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
    const add = runCnitool(host, dir, ['add', list.name, ctr.path], env);
    expect(add.code, add.stdout + add.stderr).toBe(0);
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
    expect(hostVeths(host)).toEqual([]);
    expect(host.ipJson<Array<{ ifname: string }>>('link', 'show').filter((l) => l.ifname.startsWith('bwp'))).toEqual([]);
    expect(ipamFiles(join(dir, 'ipam'), list.name)).toEqual([]);
    expect(stateRecords(dir)).toEqual([]);
    expect(cacheFiles(dir)).toEqual([]);
    // the last container's DEL stops its network's dnsmasq and removes its files
    expect(readdirIfExists(dnsDir).filter((f) => !['attachments', 'lock', 'owners'].includes(f))).toEqual([]);
  });
});
