// The built vlan plugin (bin/vlan with host-local) on the lab's kernel: an 802.1Q link on a master
// NIC of a throw-away host namespace whose other end plays the LAN. Traffic is tagged: the LAN's
// link of the same id answers, another id's container reaches nothing; CHECK, DEL (also with the
// namespace gone), linkInContainer, a failed ADD, and the reference side by side.
import { join } from 'node:path';
import { assert, expectOk, labCase } from './harness.mjs';
import { besideReference, doomedNetns, expectCniError, hostLocal, lanNic, linkNames, reservations, runner } from './links.mjs';

const network = (dir, name, vlanId, extra = {}) => ({
  cniVersion: '1.0.0',
  name,
  type: 'vlan',
  master: 'uplink0',
  vlanId,
  ipam: hostLocal(dir, '10.40.0.0/24', { rangeStart: '10.40.0.10', gateway: '10.40.0.254' }),
  ...extra,
});

/** Packets the LAN's vlan link `dev` has received. */
const received = (lan, dev) => lan.ipJson('-s', 'link', 'show', 'dev', dev)[0].stats64.rx.packets;

labCase(
  "vlan plugin: traffic is tagged on the master (the LAN's vlan 100 answers id 100, not id 200); CHECK passes, then fails without the link; DEL leaves nothing, also with the netns gone",
  async (t) => {
    const host = t.netns('host');
    const dir = t.tmpdir('vlan');
    const { lan } = lanNic(t, host, '10.39.0');
    // the LAN side: the same subnet on VLAN 100 only
    lan.ip('link', 'add', 'link', 'lan0', 'name', 'lan0.100', 'type', 'vlan', 'id', '100');
    lan.ip('addr', 'add', '10.40.0.254/24', 'dev', 'lan0.100');
    lan.ip('link', 'set', 'lan0.100', 'up');
    const run = runner('vlan', host, dir);
    const conf100 = network(dir, 'vl100', 100, { mtu: 1400 });
    const conf200 = network(dir, 'vl200', 200);
    const [c1, c2] = [t.netns('c1'), t.netns('c2')];
    // VLAN 200 first, while nothing else sends on VLAN 100: what reaches the LAN's VLAN 100 link is countable
    const r2 = expectOk(await run('ADD', c2, conf200), 'ADD vlan 200').json;
    const before = received(lan, 'lan0.100');
    assert.ok(!c2.pings('10.40.0.254'), "vlan 200 does not reach the LAN's vlan 100 link");
    assert.equal(received(lan, 'lan0.100'), before, 'nothing tagged 200 arrived on it');
    const r1 = expectOk(await run('ADD', c1, conf100), 'ADD vlan 100').json;
    assert.deepEqual(r1, {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'eth0', mac: r1.interfaces[0].mac, sandbox: c1.path }],
      ips: [{ address: '10.40.0.10/24', gateway: '10.40.0.254', interface: 0 }],
    });
    assert.equal(r1.interfaces[0].mac, host.ipJson('link', 'show', 'dev', 'uplink0')[0].address, "a vlan link has its master's MAC");
    const link = c1.ipJson('-d', 'link', 'show', 'dev', 'eth0')[0];
    assert.deepEqual([link.linkinfo.info_kind, link.linkinfo.info_data.protocol, link.linkinfo.info_data.id, link.mtu], ['vlan', '802.1Q', 100, 1400]);
    assert.ok(c1.pings('10.40.0.254'), "vlan 100 reaches the LAN's vlan 100 link");
    assert.ok(received(lan, 'lan0.100') > before, 'which received it');
    // one link per id on a master: a second container on VLAN 100 is refused by the kernel, nothing left
    const c3 = t.netns('c3');
    expectCniError(await run('ADD', c3, conf100), 110, 'a second link of id 100 on the master');
    assert.deepEqual(linkNames(c3), ['lo']);
    assert.deepEqual(reservations(join(dir, 'ipam'), 'vl100'), ['10.40.0.10']);

    const c1conf = { ...conf100, prevResult: r1 };
    expectOk(await run('CHECK', c1, c1conf), 'CHECK');
    expectCniError(await run('CHECK', c1, { ...c1conf, vlanId: 101 }), 140, 'CHECK of another id');
    expectCniError(await run('CHECK', c1, { ...c1conf, mtu: 1300 }), 140, 'CHECK of another MTU');
    c1.ip('link', 'del', 'eth0');
    assert.match(expectCniError(await run('CHECK', c1, c1conf), 140, 'CHECK without the link'), /eth0/);
    expectOk(await run('DEL', c1, c1conf), 'DEL of c1 without its link');
    expectOk(await run('DEL', c2, { ...conf200, prevResult: r2 }), 'DEL c2');
    assert.deepEqual(linkNames(c2), ['lo']);
    assert.deepEqual([...reservations(join(dir, 'ipam'), 'vl100'), ...reservations(join(dir, 'ipam'), 'vl200')], []);

    const gone = doomedNetns(t, 'gone');
    expectOk(await run('ADD', gone, conf100), 'ADD before the netns goes');
    gone.remove();
    expectOk(await run('DEL', gone, conf100), 'DEL with the netns gone');
    assert.deepEqual(reservations(join(dir, 'ipam'), 'vl100'), []);
  },
);

labCase('vlan plugin: a master in the container (linkInContainer); a failed ADD leaves no link and no reservation', async (t) => {
  const host = t.netns('host');
  const dir = t.tmpdir('vlan-lic');
  const ctr = t.netns('c');
  const lan = t.netns('lan');
  ctr.ip('link', 'add', 'trunk0', 'type', 'veth', 'peer', 'name', 'lan0', 'netns', lan.name);
  ctr.ip('link', 'set', 'trunk0', 'up');
  lan.ip('link', 'set', 'lan0', 'up');
  lan.ip('link', 'add', 'link', 'lan0', 'name', 'lan0.7', 'type', 'vlan', 'id', '7');
  lan.ip('addr', 'add', '10.40.0.254/24', 'dev', 'lan0.7');
  lan.ip('link', 'set', 'lan0.7', 'up');
  const run = runner('vlan', host, dir);
  const conf = network(dir, 'vl7', 7, { master: 'trunk0', linkInContainer: true });
  const r = expectOk(await run('ADD', ctr, conf), 'ADD on trunk0 in the container').json;
  assert.equal(ctr.ipJson('-d', 'link', 'show', 'dev', 'eth0')[0].link, 'trunk0');
  assert.ok(ctr.pings('10.40.0.254'), "vlan 7 in the container reaches the LAN's vlan 7");
  expectOk(await run('CHECK', ctr, { ...conf, prevResult: r }), 'CHECK');
  expectCniError(await run('CHECK', ctr, { ...conf, linkInContainer: false, prevResult: r }), 140, 'CHECK looking for the master in the host');
  expectOk(await run('DEL', ctr, conf), 'DEL');
  assert.deepEqual(linkNames(ctr), ['lo', 'trunk0']);

  const failing = { ...conf, ipam: { ...conf.ipam, routes: [{ dst: '10.99.0.0/16', gw: '192.0.2.77' }] } };
  assert.notEqual((await run('ADD', ctr, failing)).code, 0, 'ADD with a route through an unreachable gateway fails');
  assert.deepEqual(linkNames(ctr), ['lo', 'trunk0'], 'the vlan was removed');
  assert.deepEqual(reservations(join(dir, 'ipam'), 'vl7'), [], 'the address was released');
  assert.match(expectCniError(await run('ADD', ctr, { ...conf, mtu: 9000 }), 7, "ADD above the master's MTU"), /mtu/);
  assert.deepEqual(linkNames(ctr), ['lo', 'trunk0']);
});

labCase('vlan plugin: beside the reference (/usr/lib/cni/vlan), the same result, link and routes; CHECK and DEL across', async (t) => {
  const host = t.netns('host');
  const dir = t.tmpdir('vlan-ref');
  const { lan } = lanNic(t, host, '10.39.0');
  lan.ip('link', 'add', 'link', 'lan0', 'name', 'lan0.100', 'type', 'vlan', 'id', '100');
  lan.ip('addr', 'add', '10.40.0.254/24', 'dev', 'lan0.100');
  lan.ip('link', 'set', 'lan0.100', 'up');
  const conf = network(dir, 'vlcmp', 100, { mtu: 1400, dns: { nameservers: ['10.40.0.254'] } });
  conf.ipam.routes = [{ dst: '0.0.0.0/0' }, { dst: '10.99.0.0/16', gw: '10.40.0.7' }];
  const ours = await besideReference(t, 'vlan', host, dir, conf, { reach: (ctr) => ctr.pings('10.40.0.254'), operstateMayDiffer: true });
  assert.equal(ours.reach, true, "the LAN's vlan 100 is reached");
  assert.deepEqual([ours.link.kind, ours.link.info_data.id, ours.link.mtu], ['vlan', 100, 1400]);
});
