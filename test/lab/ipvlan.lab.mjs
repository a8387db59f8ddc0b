// The built ipvlan plugin (bin/ipvlan with host-local) on the lab's kernel: containers on a master
// NIC of a throw-away host namespace, whose other end plays the LAN; l2 and l3 traffic, CHECK, DEL
// (also with the namespace gone), a failed ADD, a chained ADD, and the reference side by side.
import { join } from 'node:path';
import { assert, expectOk, labCase } from './harness.mjs';
import { besideReference, doomedNetns, expectCniError, hostLocal, lanNic, linkNames, reservations, runner } from './links.mjs';

const network = (dir, extra = {}) => ({
  cniVersion: '1.0.0',
  name: 'ivnet',
  type: 'ipvlan',
  master: 'uplink0',
  ipam: hostLocal(dir, '10.30.0.0/24', { rangeStart: '10.30.0.10', gateway: '10.30.0.254' }),
  ...extra,
});

labCase('ipvlan plugin: l2 containers reach each other and the LAN peer; CHECK passes, then fails without the link; DEL leaves nothing, also with the netns gone', async (t) => {
  const host = t.netns('host');
  const dir = t.tmpdir('ipvlan');
  const { lan, peer } = lanNic(t, host, '10.30.0');
  const conf = network(dir, { dns: { nameservers: ['10.30.0.254'] } });
  const run = runner('ipvlan', host, dir);
  const [c1, c2] = [t.netns('c1'), t.netns('c2')];
  const r1 = expectOk(await run('ADD', c1, conf), 'ADD c1').json;
  const r2 = expectOk(await run('ADD', c2, conf), 'ADD c2').json;
  const master = host.ipJson('link', 'show', 'dev', 'uplink0')[0];
  assert.deepEqual(r1, {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'eth0', mac: master.address, sandbox: c1.path }],
    ips: [{ address: '10.30.0.10/24', gateway: '10.30.0.254', interface: 0 }],
    dns: { nameservers: ['10.30.0.254'] },
  });
  const link = c1.ipJson('-d', 'link', 'show', 'dev', 'eth0')[0];
  assert.equal(link.linkinfo.info_kind, 'ipvlan');
  assert.equal(link.linkinfo.info_data.mode, 'l2');
  assert.ok(c1.pings('10.30.0.11'), 'c1 reaches c2');
  assert.ok(c2.pings(peer), 'c2 reaches the LAN peer');
  assert.ok(lan.pings('10.30.0.10'), 'the LAN peer reaches c1');

  const c1conf = { ...conf, prevResult: r1 };
  expectOk(await run('CHECK', c1, c1conf), 'CHECK');
  c1.ip('link', 'del', 'eth0');
  assert.match(expectCniError(await run('CHECK', c1, c1conf), 140, 'CHECK without the link'), /eth0/);
  expectOk(await run('DEL', c1, c1conf), 'DEL of c1 without its link');
  expectOk(await run('DEL', c2, { ...conf, prevResult: r2 }), 'DEL c2');
  assert.deepEqual(linkNames(c2), ['lo']);
  assert.deepEqual(reservations(join(dir, 'ipam'), 'ivnet'), []);
  expectOk(await run('DEL', c2, conf), 'a second DEL');

  const gone = doomedNetns(t, 'gone');
  expectOk(await run('ADD', gone, conf), 'ADD before the netns goes');
  gone.remove();
  expectOk(await run('DEL', gone, conf), 'DEL with the netns gone');
  assert.deepEqual(reservations(join(dir, 'ipam'), 'ivnet'), []);
  assert.deepEqual(
    host.ipJson('-d', 'link', 'show').filter((l) => l.linkinfo?.info_kind === 'ipvlan'),
    [],
    'no ipvlan in the host',
  );
});

labCase("ipvlan plugin: l3 containers reach each other, and the LAN through the host namespace's routes (no ARP, no broadcast)", async (t) => {
  const host = t.netns('host');
  const dir = t.tmpdir('ipvlan-l3');
  const { lan, peer } = lanNic(t, host, '10.30.0');
  // in l3 mode the master's namespace routes the containers' packets; the LAN reaches them through the host
  host.ip('addr', 'add', '10.30.0.1/24', 'dev', 'uplink0');
  lan.ip('route', 'add', '10.31.0.0/24', 'via', '10.30.0.1');
  const conf = network(dir, { mode: 'l3', ipam: { ...hostLocal(dir, '10.31.0.0/24'), routes: [{ dst: '0.0.0.0/0' }] } });
  const run = runner('ipvlan', host, dir);
  const [c1, c2] = [t.netns('c1'), t.netns('c2')];
  const r1 = expectOk(await run('ADD', c1, conf), 'ADD c1').json;
  expectOk(await run('ADD', c2, conf), 'ADD c2');
  assert.deepEqual(r1.ips, [{ address: '10.31.0.2/24', gateway: '10.31.0.1', interface: 0 }]);
  assert.deepEqual(r1.routes, [{ dst: '0.0.0.0/0' }]);
  const link = c1.ipJson('-d', 'link', 'show', 'dev', 'eth0')[0];
  assert.equal(link.linkinfo.info_data.mode, 'l3');
  assert.ok(link.flags.includes('NOARP'), `an l3 ipvlan does no ARP: ${link.flags}`);
  assert.ok(c1.pings('10.31.0.3'), 'c1 reaches c2 on the same master');
  assert.ok(c1.pings(peer), 'c1 reaches the LAN peer, routed by the host namespace');
  assert.ok(lan.pings('10.31.0.3'), 'the LAN peer reaches c2 through its route via the host');
  expectOk(await run('CHECK', c1, { ...conf, prevResult: r1 }), 'CHECK');
  expectCniError(await run('CHECK', c1, { ...conf, mode: 'l2', prevResult: r1 }), 140, 'CHECK of another mode');
  expectOk(await run('DEL', c1, conf), 'DEL c1');
  expectOk(await run('DEL', c2, conf), 'DEL c2');
  assert.deepEqual([...linkNames(c1), ...linkNames(c2)], ['lo', 'lo']);
});

labCase("ipvlan plugin: chained without master or IPAM, on prevResult's interface in the container (linkInContainer)", async (t) => {
  const host = t.netns('host');
  const dir = t.tmpdir('ipvlan-chained');
  const ctr = t.netns('c');
  // the NIC a previous plugin (host-device, say) put into the container, on the LAN
  const lan = t.netns('lan');
  ctr.ip('link', 'add', 'net1', 'type', 'veth', 'peer', 'name', 'lan0', 'netns', lan.name);
  ctr.ip('link', 'set', 'net1', 'up');
  lan.ip('addr', 'add', '10.32.0.254/24', 'dev', 'lan0');
  lan.ip('link', 'set', 'lan0', 'up');
  const prevResult = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'net1', sandbox: ctr.path }],
    ips: [{ address: '10.32.0.5/24', gateway: '10.32.0.254', interface: 0 }],
    routes: [{ dst: '10.99.0.0/16' }],
  };
  const conf = { cniVersion: '1.0.0', name: 'ivchain', type: 'ipvlan', linkInContainer: true, prevResult };
  const run = runner('ipvlan', host, dir);
  const r = expectOk(await run('ADD', ctr, conf), 'chained ADD').json;
  assert.deepEqual(r, {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'eth0', mac: ctr.ipJson('link', 'show', 'dev', 'net1')[0].address, sandbox: ctr.path }],
    ips: prevResult.ips,
    routes: prevResult.routes,
  });
  const link = ctr.ipJson('-d', 'link', 'show', 'dev', 'eth0')[0];
  assert.equal(link.link, 'net1', 'the ipvlan sits on net1, in the container');
  assert.ok(
    ctr.ipJson('route', 'show', '10.99.0.0/16').some((x) => x.gateway === '10.32.0.254' && x.dev === 'eth0'),
    "prevResult's route via its gateway",
  );
  assert.ok(ctr.pings('10.32.0.254'), 'the LAN peer answers the chained ipvlan');
  expectOk(await run('CHECK', ctr, { ...conf, prevResult: r }), 'CHECK');
  expectOk(await run('DEL', ctr, conf), 'DEL');
  assert.deepEqual(linkNames(ctr), ['lo', 'net1']);
  // without IPAM and without prevResult addresses there is nothing to configure: refused up front
  expectCniError(await run('ADD', ctr, { ...conf, prevResult: { ...prevResult, ips: [] } }), 7, 'ADD with nothing to configure');
  assert.deepEqual(linkNames(ctr), ['lo', 'net1']);
});

labCase('ipvlan plugin: a failed ADD (IPAM route through an unreachable gateway) leaves no link and no reservation', async (t) => {
  const host = t.netns('host');
  const dir = t.tmpdir('ipvlan-fail');
  lanNic(t, host, '10.30.0');
  const conf = network(dir);
  conf.ipam.routes = [{ dst: '10.99.0.0/16', gw: '192.0.2.77' }];
  const run = runner('ipvlan', host, dir);
  const ctr = t.netns('c');
  const failed = await run('ADD', ctr, conf);
  assert.notEqual(failed.code, 0, `ADD should fail: ${failed.stdout}`);
  assert.deepEqual(linkNames(ctr), ['lo'], 'the ipvlan was removed');
  assert.deepEqual(reservations(join(dir, 'ipam'), 'ivnet'), [], 'the address was released');
  // a master that is not there: refused before anything is made
  assert.match(expectCniError(await run('ADD', ctr, { ...network(dir), master: 'nosuch0' }), 7, 'ADD on a missing master'), /master/);
  assert.deepEqual(reservations(join(dir, 'ipam'), 'ivnet'), []);
});

labCase('ipvlan plugin: beside the reference (/usr/lib/cni/ipvlan), the same result, link and routes; CHECK and DEL across', async (t) => {
  const host = t.netns('host');
  const dir = t.tmpdir('ipvlan-ref');
  const { peer } = lanNic(t, host, '10.30.0');
  const conf = network(dir, { mode: 'l2', mtu: 1400, dns: { nameservers: ['10.30.0.254'], search: ['lan.example'] } });
  conf.ipam.routes = [{ dst: '0.0.0.0/0' }, { dst: '10.99.0.0/16', gw: '10.30.0.7' }];
  const ours = await besideReference(t, 'ipvlan', host, dir, conf, { reach: (ctr) => ctr.pings(peer) });
  assert.equal(ours.reach, true, 'the LAN peer is reached');
  assert.equal(ours.link.mtu, 1400);
  assert.equal(ours.link.info_data.mode, 'l2');
});
