// The built bridge plugin (bin/bridge with host-local IPAM, masquerade through libnftables) on the
// lab's kernel: two containers in namespaces of a throw-away "host" namespace reach their gateway
// and each other; DEL leaves no veth, no IPAM reservation and no masquerade element.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assert, execPlugin, expectOk, labCase } from './harness.mjs';

labCase('bridge plugin: ADD two containers, ping between them, DEL leaves no veth', async (t) => {
  const host = t.netns('host');
  const dir = t.tmpdir('bridge');
  const conf = {
    cniVersion: '1.0.0',
    name: 'labnet',
    type: 'bridge',
    bridge: 'lab0',
    isGateway: true,
    ipMasq: true,
    ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: '10.88.0.0/24' }]] },
  };
  const run = (command, ctr, stdin = conf) =>
    execPlugin('bridge', { command, containerId: `ctr-${ctr.name}`, netns: ctr, ifname: 'eth0', stdin, inNetns: host, env: { CNI_TS_STATE_DIR: join(dir, 'state') } });
  const hostVeths = () => host.ipJson('-d', 'link', 'show', 'type', 'veth');
  const reservations = () => (existsSync(join(dir, 'ipam', 'labnet')) ? readdirSync(join(dir, 'ipam', 'labnet')).filter((f) => /^[0-9.]+$/.test(f)) : []);
  const masqElements = () => {
    const out = JSON.parse(host.exec('nft', ['-j', 'list', 'map', 'inet', 'cni_ts', 'masq4']));
    return out.nftables.find((x) => x.map)?.map.elem ?? [];
  };

  const c1 = t.netns('c1');
  const c2 = t.netns('c2');
  const r1 = expectOk(await run('ADD', c1), 'ADD c1').json;
  const r2 = expectOk(await run('ADD', c2), 'ADD c2').json;
  const addressOf = (r) => r.ips[0].address.split('/')[0];
  assert.deepEqual(r1.ips, [{ address: '10.88.0.2/24', gateway: '10.88.0.1', interface: 2 }]);
  assert.equal(addressOf(r2), '10.88.0.3');
  assert.equal(host.ipJson('-d', 'link', 'show', 'dev', 'lab0')[0].linkinfo.info_kind, 'bridge');
  assert.equal(hostVeths().filter((l) => l.master === 'lab0').length, 2, 'two host veths on the bridge');
  assert.ok(c1.pings('10.88.0.1'), 'c1 reaches the gateway');
  assert.ok(c1.pings(addressOf(r2)), 'c1 reaches c2');
  assert.ok(c2.pings(addressOf(r1)), 'c2 reaches c1');
  assert.equal(masqElements().length, 2, 'one masquerade element per container');

  expectOk(await run('DEL', c1, { ...conf, prevResult: r1 }), 'DEL c1');
  expectOk(await run('DEL', c2, { ...conf, prevResult: r2 }), 'DEL c2');
  assert.deepEqual(
    hostVeths().map((l) => l.ifname),
    [],
    'no veth left in the host namespace',
  );
  assert.deepEqual(reservations(), [], 'no IPAM reservation left');
  assert.deepEqual(masqElements(), [], 'no masquerade element left');
  expectOk(await run('DEL', c1, conf), 'a second DEL');
});
