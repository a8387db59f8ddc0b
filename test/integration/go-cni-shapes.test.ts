import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { BIN_DIR } from '../helpers/exec-plugin';
import { runCnitool } from '../helpers/cnitool';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { UPLINK } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';

/**
 * What containerd's CRI (go-cni) passes for a pod with a hostPort, the bandwidth annotations, the
 * cluster DNS and pod CIDR ranges: go-cni's capability structs have no JSON tags, so the keys are
 * Go's field names (captured from the plugins' stdin under containerd 1.6). The reference reads
 * them through Go's case-insensitive decoder; so must we. The conflist is a kubeadm-era node's
 * (bridge + host-local, portmap, bandwidth), run by cnitool with these exact capability arguments,
 * once on our plugins and once on the reference's.
 */
const CAP_ARGS = {
  portMappings: [
    { HostPort: 18301, ContainerPort: 80, Protocol: 'tcp', HostIP: '' },
    { HostPort: 18302, ContainerPort: 53, Protocol: 'udp', HostIP: '' },
  ],
  // the kubelet sets only rates; containerd fills both bursts with math.MaxUint32
  bandwidth: { IngressRate: 2_000_000, IngressBurst: 4_294_967_295, EgressRate: 3_000_000, EgressBurst: 4_294_967_295 },
  ipRanges: [[{ Subnet: '10.48.0.0/24', RangeStart: '10.48.0.100', RangeEnd: '10.48.0.120', Gateway: '' }]],
  dns: { Servers: ['10.96.0.10'], Searches: ['default.svc.cluster.local', 'svc.cluster.local'], Options: ['ndots:5'] },
};
const REFERENCE_DIR = '/usr/lib/cni';

let dir: string;
let host: TestNetns;
let outside: TestNetns;
const pool = useNodeFixture('cnit-gocni-', (node) => ({ dir, host, outside } = node));

beforeEach(() => {
  mkdirSync(join(dir, 'net.d'));
  const list = {
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cnik8s0',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        capabilities: { ipRanges: true, dns: true },
        // the pod's ranges come from the runtime alone (the reference refuses config ranges that overlap them)
        ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'bandwidth', capabilities: { bandwidth: true } },
    ],
  };
  writeFileSync(join(dir, 'net.d', '10-containerd-net.conflist'), JSON.stringify(list));
});

interface Qdisc {
  kind: string;
  dev: string;
  handle: string;
  options?: Record<string, unknown>;
}

/** One pod through the whole conflist on `pluginDir`'s plugins: what the result, the traffic and the kernel show. */
async function pod(pluginDir: string, label: string) {
  const ctr = pool.make(label);
  const cnitool = (verb: string) =>
    runCnitool(host, dir, [verb, 'k8s-pod-network', ctr.path], { CAP_ARGS: JSON.stringify(CAP_ARGS), CNI_PATH: pluginDir, CNI_CONTAINERID: `pod-${label}` });
  const add = cnitool('add');
  expect(add.code, add.stdout + add.stderr).toBe(0);
  const address: string = add.json.ips[0].address;
  await serve(ctr, 'tcp', 80, 'web');
  await serve(ctr, 'udp', 53, 'dns');
  const hostVeth: string = add.json.interfaces.find((i: { name: string; sandbox?: string }) => !i.sandbox && i.name !== 'cnik8s0').name;
  const ifb: string | undefined = add.json.interfaces.find((i: { name: string }) => i.name.startsWith('bwp'))?.name;
  const role = (dev: string) => (dev === hostVeth ? 'host veth' : dev === ifb ? 'ifb' : dev);
  const qdiscs = (JSON.parse(host.exec('tc', ['-j', 'qdisc', 'show'])) as Qdisc[])
    .filter((q) => q.handle !== '0:' && (q.dev === hostVeth || q.dev === ifb))
    .map((q) => ({ dev: role(q.dev), kind: q.kind, options: q.options }));
  const lastOctet = Number(/^10\.48\.0\.(\d+)\/24$/.exec(address)?.[1]);
  const seen = {
    // both suites share the store, so the reference goes on after our last reservation: compare the range
    inRuntimeRange: lastOctet >= 100 && lastOctet <= 120,
    gateway: add.json.ips[0].gateway,
    tcp: ask(outside, 'tcp', UPLINK.host4, 18301),
    udp: ask(outside, 'udp', UPLINK.host4, 18302),
    qdiscs,
    ifb: Boolean(ifb),
  };
  // (the reference's portmap CHECK fails for an IPv4-only pod: "could not check ipv6 dnat: chain CNI-DN-… not found")
  if (pluginDir === BIN_DIR) {
    const check = cnitool('check');
    expect(check.code, check.stdout + check.stderr).toBe(0);
  }
  const del = cnitool('del');
  expect(del.code, del.stdout + del.stderr).toBe(0);
  expect(ask(outside, 'tcp', UPLINK.host4, 18301)).toBeUndefined();
  return { address, seen };
}

describe("go-cni's field names (containerd's CRI, nerdctl)", () => {
  it('a pod with hostPorts, bandwidth limits, pod ranges and DNS: the ports answer, the shaping is applied, the address is from the runtime range; as with the reference', async () => {
    const { address, seen: ours } = await pod(BIN_DIR, 'ours');
    expect(address).toBe('10.48.0.100/24');
    expect(ours.inRuntimeRange).toBe(true);
    expect(ours.gateway).toBe('10.48.0.1');
    expect(ours.tcp).toBe(`web saw ${UPLINK.outside4}`);
    expect(ours.udp).toBe(`dns saw ${UPLINK.outside4}`);
    // ingress: tbf on the host veth at 2 Mbit/s; egress: the host veth's ingress redirected to an ifb shaped at 3 Mbit/s
    expect(ours.qdiscs.map((q) => `${q.dev} ${q.kind}`).sort()).toEqual(['host veth ingress', 'host veth tbf', 'ifb tbf']);
    expect(ours.qdiscs.find((q) => q.dev === 'host veth' && q.kind === 'tbf')?.options).toMatchObject({ rate: 250_000 });
    expect(ours.qdiscs.find((q) => q.dev === 'ifb')?.options).toMatchObject({ rate: 375_000 });

    const { seen: theirs } = await pod(REFERENCE_DIR, 'theirs');
    expect(ours).toEqual(theirs);
  });
});
