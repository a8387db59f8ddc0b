import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_DIR, execPlugin } from '../helpers/exec-plugin';
import { type DhcpLan, LAN, type Started, dhcpPlugin, dnsmasqClientId, startDhcpDaemon, useDhcpLan } from '../helpers/dhcp-lan';
import { until } from '../helpers/poll';
import type { TestNetns } from '../helpers/netns';

let lan: DhcpLan;
useDhcpLan('cnit-dhcp-', (fixture) => (lan = fixture));

const DHCP = join(BIN_DIR, 'dhcp');
const socket = () => join(lan.dir, 'dhcp.sock');
const conf = (extra: Record<string, unknown> = {}) => ({ cniVersion: '1.1.0', name: 'lan', type: 'macvlan', ipam: { type: 'dhcp', daemonSocketPath: socket(), ...extra } });

/** Our daemon on the test's socket and lease directory, with short timeouts; resolves once it answers STATUS. */
async function daemon(extra: string[] = []): Promise<Started> {
  const d = await startDhcpDaemon(lan.start, socket(), join(lan.dir, 'leases.d'), ['-timeout', '2s', '-resendtimeout', '6s', ...extra]);
  const status = await dhcpPlugin(DHCP, 'STATUS', '', undefined, conf());
  expect(status.code, status.stdout + d.output()).toBe(0);
  return d;
}

const run = (command: string, containerId: string, ctr: TestNetns | undefined, c: object = conf(), extra = {}) => dhcpPlugin(DHCP, command, containerId, ctr, c, extra);
const linkOf = (ctr: TestNetns) => ctr.ipJson<Array<{ flags: string[] }>>('link', 'show', 'eth0')[0];
const count = (text: string, what: RegExp) => (text.match(what) ?? []).length;

/** What the interface plugin would do with the result: the address on eth0 (renewals are unicast to it). */
const configure = (ctr: TestNetns, address: string) => execFileSync('ip', ['-n', ctr.name, 'addr', 'add', address, 'dev', 'eth0']);

/** dnsmasq with `options`, our daemon, and a container holding a lease on eth0 (its address configured). */
async function leased(options: string[] = []) {
  await lan.dnsmasq(options);
  const d = await daemon();
  const ctr = lan.container('dctr');
  const add = await run('ADD', 'ctr1', ctr);
  expect(add.code, add.stdout).toBe(0);
  configure(ctr, add.json.ips[0].address);
  return { d, ctr, add };
}

/** An interface plugin with dhcp as its IPAM, run for container ctr1 as a runtime would. */
const interfacePlugin = (type: string, conf: object, ctr: TestNetns, host: TestNetns) => (command: string, prevResult?: object) =>
  execPlugin(type, {
    command,
    containerId: 'ctr1',
    netns: ctr.path,
    ifname: 'eth0',
    stdin: { ...conf, ...(prevResult ? { prevResult } : {}) },
    inNetns: host.name,
    env: { CNI_TS_STATE_DIR: join(lan.dir, 'state') },
  });

describe('dhcp IPAM with its daemon, against dnsmasq', () => {
  it("ADD leases an address: the server's address, router, routes and DNS in the result; the interface comes up; a repeated ADD gets the same lease; CHECK and STATUS pass", async () => {
    await lan.dnsmasq(['--dhcp-option=option:domain-name,lan.example', '--dhcp-option=option:domain-search,example.com,corp.example.com']);
    const d = await daemon();
    const ctr = lan.container('dctr');
    expect(linkOf(ctr).flags).not.toContain('UP');

    const add = await run('ADD', 'ctr1', ctr);
    expect(add.code, add.stdout + d.output()).toBe(0);
    const address = add.json.ips[0].address as string;
    expect(add.json).toEqual({
      cniVersion: '1.1.0',
      ips: [{ address: expect.stringMatching(/^10\.91\.0\.\d+\/24$/), gateway: LAN.server }],
      routes: [{ dst: '0.0.0.0/0', gw: LAN.server }],
      dns: { nameservers: [LAN.dns], domain: 'lan.example', search: ['example.com', 'corp.example.com'] },
    });
    const [lease] = lan.leases();
    expect(lease).toMatchObject({ ip: address.split('/')[0], clientId: dnsmasqClientId('ctr1/lan/eth0') });
    expect(linkOf(ctr).flags).toContain('UP');
    // DISCOVER with the broadcast flag; the server broadcast its answers to the unconfigured interface
    expect(lan.dnsmasqLog()).toMatch(/broadcast response/);

    const again = await run('ADD', 'ctr1', ctr);
    expect(again.json).toEqual(add.json);
    expect(count(lan.dnsmasqLog(), /DHCPDISCOVER/g)).toBe(1);

    const withPrev = conf();
    const check = await run('CHECK', 'ctr1', ctr, { ...withPrev, prevResult: add.json });
    expect(check.code, check.stdout).toBe(0);
    const moved = await run('CHECK', 'ctr1', ctr, { ...withPrev, prevResult: { ...add.json, ips: [{ address: '10.91.0.3/24' }] } });
    expect(moved.json).toMatchObject({ code: 140, msg: expect.stringContaining(`is "${address}", which is not in prevResult.ips`) });
    const unknown = await run('CHECK', 'nobody', ctr, { ...withPrev, prevResult: add.json });
    expect(unknown.json).toMatchObject({ code: 103, msg: 'dhcp: the daemon holds no lease for container "nobody" interface "eth0" of network "lan"' });
    expect((await run('STATUS', '', undefined)).code).toBe(0);
  });

  it('routes from option 121 replace the router route (RFC 3442); ipam.priority sets their metric; provide sends the host name from CNI_ARGS', async () => {
    await lan.dnsmasq(['--dhcp-option=121,10.99.0.0/16,10.91.0.254,0.0.0.0/0,10.91.0.1']);
    await daemon();
    const ctr = lan.container('dctr');
    const add = await run('ADD', 'ctr1', ctr, conf({ priority: 20, provide: [{ option: 'host-name', fromArg: 'K8S_POD_NAME' }] }), {
      cniArgs: 'IgnoreUnknown=1;K8S_POD_NAME=web-1',
    });
    expect(add.code, add.stdout).toBe(0);
    expect(add.json.routes).toEqual([
      { dst: '10.99.0.0/16', gw: '10.91.0.254', priority: 20 },
      { dst: '0.0.0.0/0', gw: '10.91.0.1', priority: 20 },
    ]);
    expect(lan.dnsmasqLog()).toMatch(/client provides name: web-1/);
  });

  it('renews at T1 (option 58) with the server that granted the lease: dnsmasq sees the DHCPREQUEST and moves the expiry', async () => {
    const { d } = await leased(['--dhcp-option=option:T1,3']);
    const first = lan.leases()[0].expires;
    // dnsmasq records its ACK before the daemon has read it: the renewal is done when both say so
    const renewed = () => count(lan.dnsmasqLog(), /DHCPACK/g) >= 2 && lan.leases()[0]?.expires > first && d.output().includes('"msg":"lease renewed"');
    await until('a renewal', renewed, 15_000, d);
    // a renewal: a REQUEST for the address held, unicast (RENEWING), no new DISCOVER
    expect(count(lan.dnsmasqLog(), /DHCPDISCOVER/g)).toBe(1);
    expect(lan.leases()).toHaveLength(1);
  });

  it('rebinds at T2 (option 59), broadcast, when the server that granted the lease does not answer its unicast renewals', async () => {
    const { d } = await leased(['--dhcp-option=option:T1,2', '--dhcp-option=option:T2,5']);
    // the server stops hearing what is sent to its own address; broadcasts still reach it
    for (const command of [
      'add table ip cnitdhcp',
      'add chain ip cnitdhcp input { type filter hook input priority 0 ; }',
      'add rule ip cnitdhcp input ip daddr 10.91.0.1 udp dport 67 drop',
    ])
      execFileSync('ip', ['netns', 'exec', lan.lan.name, 'nft', command]);
    await until('a rebinding', () => d.output().includes('"msg":"lease rebound"'), 15_000, d);
    expect(d.output()).toContain('no answer to the renewal; trying again');
    expect(count(lan.dnsmasqLog(), /DHCPDISCOVER/g)).toBe(1);
    expect(lan.leases()).toHaveLength(1);
  });

  it('DEL releases the lease (dnsmasq forgets it) and forgets it on disk; DEL of an unknown lease and DEL without the namespace succeed', async () => {
    const { d, ctr, add } = await leased();
    expect(readdirSync(join(lan.dir, 'leases.d')).filter((f) => f.endsWith('.json'))).toHaveLength(1);

    const del = await run('DEL', 'ctr1', ctr);
    expect(del.code, del.stdout + d.output()).toBe(0);
    await until('the release', () => lan.dnsmasqLog().includes('DHCPRELEASE') && lan.leases().length === 0, 5000, d);
    expect(readdirSync(join(lan.dir, 'leases.d')).filter((f) => f.endsWith('.json'))).toEqual([]);
    expect((await run('CHECK', 'ctr1', ctr, { ...conf(), prevResult: add.json })).json).toMatchObject({ code: 103 });

    expect((await run('DEL', 'ctr1', ctr)).code).toBe(0);
    expect((await run('DEL', 'never-added', ctr)).code).toBe(0);

    // a container whose namespace is gone before its DEL: the daemon forgets the lease (no RELEASE can go out)
    const gone = lan.container('dgone');
    expect((await run('ADD', 'ctr2', gone)).code).toBe(0);
    gone.destroy();
    const late = await run('DEL', 'ctr2', undefined);
    expect(late.code, late.stdout).toBe(0);
    expect(readdirSync(join(lan.dir, 'leases.d')).filter((f) => f.endsWith('.json'))).toEqual([]);
  });

  it('GC releases the leases of the network whose attachment is no longer valid, and only those', async () => {
    await lan.dnsmasq();
    await daemon();
    const [a, b] = [lan.container('dca'), lan.container('dcb')];
    expect((await run('ADD', 'ctra', a)).code).toBe(0);
    expect((await run('ADD', 'ctrb', b)).code).toBe(0);
    expect(lan.leases()).toHaveLength(2);
    const gc = await run('GC', '', undefined, { ...conf(), 'cni.dev/valid-attachments': [{ containerID: 'ctra', ifname: 'eth0' }] });
    expect(gc.code, gc.stdout).toBe(0);
    await until('the release of ctrb', () => lan.leases().length === 1, 5000);
    expect(lan.leases()[0].clientId).toBe(dnsmasqClientId('ctra/lan/eth0'));
    expect((await run('CHECK', 'ctra', a)).code).toBe(0);
  });

  it('with no server, ADD fails after -resendtimeout with a clear error (11), and leaves nothing; DEL succeeds; an ADD killed by its runtime is abandoned', async () => {
    const d = await daemon();
    const ctr = lan.container('dctr');
    const started = Date.now();
    const add = await run('ADD', 'ctr1', ctr);
    const took = Date.now() - started;
    expect(add.json).toMatchObject({
      code: 11,
      msg: expect.stringMatching(/^dhcp: no lease for interface "eth0" after [\d.]+ s \(\d+ × DHCPDISCOVER without an offer\): is a DHCP server reachable from it\?$/),
    });
    expect(took).toBeGreaterThan(4000);
    expect(took).toBeLessThan(15_000);
    expect((await run('DEL', 'ctr1', ctr)).code).toBe(0);
    expect((await run('CHECK', 'ctr1', ctr)).json).toMatchObject({ code: 103 });

    // the runtime gives up on an ADD (kills the plugin): the daemon stops trying, so a server that
    // comes up later hands out no lease nobody will release
    const killed = await run('ADD', 'ctr2', ctr, conf(), { killAfterMs: 1000 });
    expect(killed.signal).toBe('SIGKILL');
    // the acquisition ends with its request (it would otherwise try for 5 more seconds): a server
    // that comes up afterwards sees nothing
    await until('the daemon to abandon the killed ADD', () => d.output().includes('"msg":"request abandoned: its client went away"'), 5000, d);
    await lan.dnsmasq();
    // another container's whole lease while the abandoned one could still be trying: the server sees only that one
    const other = lan.container('dctr3');
    expect((await run('ADD', 'ctr3', other)).code).toBe(0);
    expect(lan.leases().map((l) => l.clientId)).toEqual([dnsmasqClientId('ctr3/lan/eth0')]);
    expect(count(lan.dnsmasqLog(), /DHCPDISCOVER/g)).toBe(1);
  });

  it('a daemon restarted (even killed) keeps the lease: it restores it from disk, CHECK passes, ADD returns it without a new DISCOVER, renewals go on, DEL releases it', async () => {
    const { d: first, ctr, add } = await leased(['--dhcp-option=option:T1,3']);

    await first.stop('SIGKILL'); // a crash: the socket file stays behind
    expect(existsSync(socket())).toBe(true);
    expect((await run('STATUS', '', undefined)).json).toMatchObject({ code: 50 });

    const second = await daemon();
    await until('the lease to be restored', () => second.output().includes('"msg":"lease restored"'), 5000, second);
    expect((await run('CHECK', 'ctr1', ctr, { ...conf(), prevResult: add.json })).code).toBe(0);
    const again = await run('ADD', 'ctr1', ctr);
    expect(again.json).toEqual(add.json);
    expect(count(lan.dnsmasqLog(), /DHCPDISCOVER/g)).toBe(1);
    await until('a renewal by the new daemon', () => second.output().includes('"msg":"lease renewed"'), 10_000, second);

    // a graceful stop (SIGTERM) removes the socket; the lease stays on disk
    await second.stop('SIGTERM');
    expect(existsSync(socket())).toBe(false);
    const third = await daemon();
    await until('the lease to be restored again', () => third.output().includes('"msg":"lease restored"'), 5000, third);
    expect((await run('DEL', 'ctr1', ctr)).code).toBe(0);
    await until('the release', () => lan.leases().length === 0, 5000, third);
  });

  it('a DEL while no daemon runs succeeds (a runtime must be able to remove the container), and the next daemon releases that lease', async () => {
    const { d: first, ctr, add } = await leased(['--dhcp-option=option:T1,3']);
    expect(lan.leases()).toHaveLength(1);
    await first.stop('SIGTERM');

    const del = await run('DEL', 'ctr1', ctr);
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(del.stderr).toContain('the lease is marked released');
    expect(lan.leases()).toHaveLength(1); // nobody told the server yet

    const second = await daemon();
    await until('the marked lease to be released', () => lan.leases().length === 0, 10_000, second);
    expect(readdirSync(`${socket()}.released`)).toEqual([]);
    // and the new daemon holds it no more, so nothing renews it (its timers go with it: keeper.test.ts)
    expect((await run('CHECK', 'ctr1', ctr, { ...conf(), prevResult: add.json })).json).toMatchObject({ code: 103 });
  });

  it('without a daemon: STATUS, ADD and GC fail with 50 (plugin not available), each naming the socket', async () => {
    const ctr = lan.container('dctr');
    for (const [command, code] of [
      ['STATUS', 50],
      ['ADD', 50],
      ['GC', 50],
    ] as const) {
      const r = await run(command, 'ctr1', command === 'STATUS' || command === 'GC' ? undefined : ctr);
      expect(r.json, command).toMatchObject({
        code,
        msg: `dhcp: cannot reach the dhcp daemon at "${socket()}": no such socket; start it with "dhcp daemon" (or: systemctl start cni-ts-dhcp.socket)`,
      });
    }
    // a second daemon on the same socket or lease directory refuses to start
    await daemon();
    const other = lan.start(DHCP, ['daemon', '-socketpath', socket(), '-leasedir', join(lan.dir, 'other.d')]);
    await new Promise<void>((resolve) => other.child.once('exit', () => resolve()));
    expect(other.child.exitCode).toBe(1);
    expect(other.output()).toContain(`another dhcp daemon is listening on \\"${socket()}\\"`);
  });

  it('as the IPAM of bridge, whose bridge has an uplink to the LAN: the container gets a lease, reaches the server, renews, and DEL releases', async () => {
    await lan.dnsmasq(['--dhcp-option=option:T1,3']);
    const d = await daemon();
    // the node: its uplink is a port of the LAN; the bridge the plugin uses holds it
    const host = lan.container('dhost');
    for (const args of [
      ['link', 'add', 'cnidhcp0', 'type', 'bridge'],
      ['link', 'set', 'eth0', 'master', 'cnidhcp0', 'up'],
      ['link', 'set', 'cnidhcp0', 'up'],
    ])
      execFileSync('ip', ['-n', host.name, ...args]);
    const ctr = lan.namespace('dctr');
    const bridgeConf = {
      cniVersion: '1.0.0',
      name: 'lan',
      type: 'bridge',
      bridge: 'cnidhcp0',
      isGateway: false,
      ipMasq: false,
      ipam: { type: 'dhcp', daemonSocketPath: socket() },
    };
    const bridge = interfacePlugin('bridge', bridgeConf, ctr, host);

    const add = await bridge('ADD');
    expect(add.code, add.stdout + d.output()).toBe(0);
    const address = add.json.ips[0].address as string;
    expect(add.json.ips[0]).toMatchObject({ address: expect.stringMatching(/^10\.91\.0\.\d+\/24$/), gateway: LAN.server });
    expect(add.json.routes).toEqual([{ dst: '0.0.0.0/0', gw: LAN.server }]);
    expect(ctr.ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>>('addr', 'show', 'eth0')[0].addr_info).toContainEqual(
      expect.objectContaining({ local: address.split('/')[0], prefixlen: 24 }),
    );
    execFileSync('ip', ['netns', 'exec', ctr.name, 'ping', '-c', '1', '-W', '2', LAN.server]);
    await until('a renewal through the bridge', () => d.output().includes('"msg":"lease renewed"'), 10_000, d);
    const check = await bridge('CHECK', add.json);
    expect(check.code, check.stdout).toBe(0);

    const del = await bridge('DEL');
    expect(del.code, del.stdout).toBe(0);
    await until('the release', () => lan.leases().length === 0, 5000, d);
  });

  it('as the IPAM of macvlan on a NIC of the LAN: the container gets a lease on its own MAC, reaches the server, renews, and DEL releases', async () => {
    await lan.dnsmasq(['--dhcp-option=option:T1,3']);
    const d = await daemon();
    const host = lan.container('dhost');
    execFileSync('ip', ['-n', host.name, 'link', 'set', 'eth0', 'up']);
    const ctr = lan.namespace('dctr');
    const macvlanConf = { cniVersion: '1.0.0', name: 'lan', type: 'macvlan', master: 'eth0', mode: 'bridge', ipam: { type: 'dhcp', daemonSocketPath: socket() } };
    const macvlan = interfacePlugin('macvlan', macvlanConf, ctr, host);

    const add = await macvlan('ADD');
    expect(add.code, add.stdout + d.output()).toBe(0);
    const mac = ctr.ipJson<Array<{ address: string }>>('link', 'show', 'eth0')[0].address;
    expect(lan.leases()).toEqual([expect.objectContaining({ ip: add.json.ips[0].address.split('/')[0], mac, clientId: dnsmasqClientId('ctr1/lan/eth0') })]);
    execFileSync('ip', ['netns', 'exec', ctr.name, 'ping', '-c', '1', '-W', '2', LAN.server]);
    await until('a renewal over the macvlan', () => d.output().includes('"msg":"lease renewed"'), 10_000, d);
    const check = await macvlan('CHECK', add.json);
    expect(check.code, check.stdout).toBe(0);

    const del = await macvlan('DEL');
    expect(del.code, del.stdout).toBe(0);
    await until('the release', () => lan.leases().length === 0, 5000, d);
  });
});
