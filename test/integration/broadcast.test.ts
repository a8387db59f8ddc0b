import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execPlugin } from '../helpers/exec-plugin';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture } from '../helpers/node-fixture';
import { serve } from '../helpers/traffic';

let dir: string;
let host: TestNetns;
const pool = useNodeFixture('cnit-brd-', (node) => ({ dir, host } = node));

const conf = () => ({
  cniVersion: '1.0.0',
  name: 'brdnet',
  type: 'bridge',
  bridge: 'cnitb0',
  isGateway: true,
  ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.67.0.0/24' }]] },
});

/** A bridge ADD for each container, in turn; each must succeed. */
async function addAll(...ctrs: TestNetns[]): Promise<void> {
  for (const ctr of ctrs) {
    const r = await execPlugin('bridge', {
      command: 'ADD',
      containerId: `ctr-${ctr.name}`,
      netns: ctr.path,
      ifname: 'eth0',
      stdin: conf(),
      inNetns: host.name,
      env: { CNI_TS_STATE_DIR: join(dir, 'state') },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
}

/**
 * Sends one UDP datagram from `ns` to host:port with SO_BROADCAST set (without it the kernel refuses
 * a broadcast destination with EACCES) and prints the first answer; exits 1 after 1.5 s without one.
 */
const SEND_BROADCAST = `
const [host, port] = process.argv.slice(1);
const sock = require('node:dgram').createSocket('udp4');
setTimeout(() => process.exit(1), 1500);
sock.on('message', (m) => (console.log(String(m)), process.exit(0)));
sock.on('error', (e) => (console.error(e.message), process.exit(2)));
sock.bind(0, () => (sock.setBroadcast(true), sock.send('hi', Number(port), host)));
`;

function askBroadcast(ns: TestNetns, target: string, port: number): { answer?: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, '-e', SEND_BROADCAST, target, String(port)], { encoding: 'utf8', timeout: 5000 });
  return { answer: r.status === 0 ? r.stdout.trim() : undefined, stderr: r.stderr };
}

/**
 * The broadcast address an application finds for `dev` (SIOCGIFBRDADDR, which net-tools' ifconfig
 * and most programs use; glibc's getifaddrs reads the same IFA_BROADCAST): 0.0.0.0 when the address
 * was added without one. perl-base is on every Debian system and can make the ioctl; Node cannot.
 */
function reportedBroadcast(ns: TestNetns, dev: string): string {
  const script =
    'socket(my $s, PF_INET, SOCK_DGRAM, 0) or die "socket: $!"; my $req = pack("a16 x16", $ARGV[0]); ioctl($s, 0x8919, $req) or die "SIOCGIFBRDADDR: $!"; print inet_ntoa(substr($req, 20, 4))';
  return ns.exec('perl', ['-MSocket', '-e', script, dev]).trim();
}

type AddrInfo = { family: string; local: string; prefixlen: number; broadcast?: string };
const ipv4 = (ns: TestNetns, dev: string) =>
  ns
    .ipJson<Array<{ addr_info: AddrInfo[] }>>('addr', 'show', 'dev', dev)
    .flatMap((l) => l.addr_info)
    .filter((a) => a.family === 'inet');

describe('bridge IPv4 broadcast', () => {
  it('gives the container and bridge addresses the subnet broadcast (brd), as the reference does', async () => {
    const c1 = pool.make('c');
    const c2 = pool.make('c');
    await addAll(c1, c2);
    expect(ipv4(c1, 'eth0')).toEqual([expect.objectContaining({ local: '10.67.0.2', prefixlen: 24, broadcast: '10.67.0.255' })]);
    expect(ipv4(c2, 'eth0')).toEqual([expect.objectContaining({ local: '10.67.0.3', prefixlen: 24, broadcast: '10.67.0.255' })]);
    expect(ipv4(host, 'cnitb0')).toEqual([expect.objectContaining({ local: '10.67.0.1', prefixlen: 24, broadcast: '10.67.0.255' })]);
  });

  it("lets a container send a UDP datagram to its interface's broadcast address and the other container receive it", async () => {
    const sender = pool.make('c');
    const receiver = pool.make('c');
    await addAll(sender, receiver);
    const target = reportedBroadcast(sender, 'eth0');
    expect(target).toBe('10.67.0.255');
    expect(reportedBroadcast(host, 'cnitb0')).toBe('10.67.0.255');

    // the echo server answers the broadcast by unicast, naming the sender it saw
    await serve(receiver, 'udp', 7070, 'receiver', '0.0.0.0');
    const sent = askBroadcast(sender, target, 7070);
    expect(sent.answer, sent.stderr).toBe('receiver saw 10.67.0.2');
  });
});
