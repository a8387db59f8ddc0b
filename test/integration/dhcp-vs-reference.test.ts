import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_DIR } from '../helpers/exec-plugin';
import { type DhcpLan, LAN, dhcpPlugin, dnsmasqClientId, useDhcpLan } from '../helpers/dhcp-lan';
import { until } from '../helpers/poll';
import type { TestNetns } from '../helpers/netns';

/**
 * The reference dhcp (containernetworking-plugins 1.1.1, Debian's /usr/lib/cni/dhcp) and ours side
 * by side: each plugin talks only to its own daemon, so each pair runs in turn with the same
 * conflist (the same socket path) against the same dnsmasq, for the same container.
 */
const REFERENCE = '/usr/lib/cni/dhcp';
const OURS = join(BIN_DIR, 'dhcp');

let lan: DhcpLan;
useDhcpLan('cnit-dhcpref-', (fixture) => (lan = fixture));

const socket = () => join(lan.dir, 'dhcp.sock');
const statusOk = () => spawnSync(OURS, { input: JSON.stringify(conflist('1.1.0')), env: { PATH: process.env.PATH, CNI_COMMAND: 'STATUS', CNI_PATH: BIN_DIR } }).status === 0;
const conflist = (cniVersion: string, ipam: Record<string, unknown> = {}) => ({
  cniVersion,
  name: 'lan',
  type: 'macvlan',
  ipam: { type: 'dhcp', daemonSocketPath: socket(), ...ipam },
});

/**
 * One daemon and its plugin: ADD for `containerId` on `ctr`'s eth0, the lease dnsmasq recorded,
 * DEL, and dnsmasq seeing it released. (The reference daemon leaves its socket file behind when it
 * is stopped; ours takes over such a file, and answers STATUS once it listens.)
 */
async function addAndDelete(executable: string, daemonArgs: string[], ctr: TestNetns, containerId: string, conf: object) {
  const daemon = lan.start(executable, ['daemon', '-socketpath', socket(), ...daemonArgs]);
  if (executable === OURS) await until('our daemon', () => statusOk(), 10_000, daemon);
  else await until('the reference daemon', () => existsSync(socket()), 10_000, daemon);
  const add = await dhcpPlugin(executable, 'ADD', containerId, ctr, conf);
  expect(add.code, `${executable} ADD: ${add.stdout}${daemon.output()}`).toBe(0);
  const lease = lan.leases().find((l) => l.ip === add.json.ips[0].address.split('/')[0]);
  const del = await dhcpPlugin(executable, 'DEL', containerId, ctr, conf);
  expect(del.code, `${executable} DEL: ${del.stdout}`).toBe(0);
  await until(`${executable}'s release`, () => !lan.leases().some((l) => l.ip === lease?.ip), 5000, daemon);
  await daemon.stop('SIGTERM');
  return { result: add.json, lease };
}

describe('dhcp beside the reference plugin and daemon (1.1.1)', () => {
  it.each(['1.0.0', '0.4.0'])(
    'cniVersion %s: the same address, gateway and routes for the same container, the same client id at the server, both released on DEL',
    async (cniVersion) => {
      await lan.dnsmasq();
      const conf = conflist(cniVersion);
      const ctr = lan.container('dref');
      const reference = await addAndDelete(REFERENCE, [], ctr, 'ctr1', conf);
      const ours = await addAndDelete(OURS, ['-leasedir', join(lan.dir, 'leases.d')], ctr, 'ctr1', conf);

      const { dns: referenceDns, ...referenceRest } = reference.result;
      const { dns: ourDns, ...ourRest } = ours.result;
      expect(ourRest).toEqual(referenceRest);
      expect(referenceRest).toMatchObject({
        cniVersion,
        ips: [{ address: expect.stringMatching(/^10\.91\.0\.\d+\/24$/), gateway: LAN.server, ...(cniVersion === '0.4.0' ? { version: '4' } : {}) }],
        routes: [{ dst: '0.0.0.0/0', gw: LAN.server }],
      });
      // the reference asks for routers and the subnet mask only and returns no DNS; we ask for the
      // DNS servers, domain and search list too, and return what the server sends
      expect(referenceDns ?? {}).toEqual({});
      expect(ourDns).toEqual({ nameservers: [LAN.dns] });
      expect(ours.lease?.clientId).toBe(dnsmasqClientId('ctr1/lan/eth0'));
      expect(reference.lease?.clientId).toBe(ours.lease?.clientId);
    },
  );

  it('classless static routes (121) asked for with `request`: the same routes from both', async () => {
    await lan.dnsmasq(['--dhcp-option=121,10.99.0.0/16,10.91.0.254,0.0.0.0/0,10.91.0.1']);
    const conf = conflist('1.0.0', { request: [{ option: '121' }] });
    const ctr = lan.container('dref');
    const reference = await addAndDelete(REFERENCE, [], ctr, 'ctr1', conf);
    const ours = await addAndDelete(OURS, ['-leasedir', join(lan.dir, 'leases.d')], ctr, 'ctr1', conf);
    expect(ours.result.routes).toEqual([
      { dst: '10.99.0.0/16', gw: '10.91.0.254' },
      { dst: '0.0.0.0/0', gw: '10.91.0.1' },
    ]);
    expect(ours.result.routes).toEqual(reference.result.routes);
    expect(ours.result.ips).toEqual(reference.result.ips);
  });
});
