// The bridge plugin's VLAN fields (vlan, vlanTrunk, preserveDefaultVlan, the <bridge>.<vlan>
// gateway) on the lab's kernel, which has bridge VLAN filtering (the development machines' has not;
// portIsolation is tested there: test/integration/bridge-vlan.test.ts). Each case runs the built
// bin/bridge with host-local in a throw-away "host" namespace and looks at the kernel with
// `bridge -j vlan show` and `ip -d -j link`, and at traffic between the containers.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, execPlugin, expectOk, labCase } from './harness.mjs';

const BRIDGE = 'labvl0';

/** A host namespace, a state directory, and a way to run bin/bridge there with a config of the case. */
function vlanNode(t) {
  const host = t.netns('host');
  const dir = t.tmpdir('bridge-vlan');
  const conf = (name, subnet, extra = {}) => ({
    cniVersion: '1.0.0',
    name,
    type: 'bridge',
    bridge: BRIDGE,
    ipam: { type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet }]] },
    ...extra,
  });
  const run = (command, ctr, stdin) =>
    execPlugin('bridge', { command, containerId: `ctr-${ctr.name}`, netns: ctr, ifname: 'eth0', stdin, inNetns: host, env: { CNI_TS_STATE_DIR: join(dir, 'state') } });
  const add = async (ctr, stdin) => expectOk(await run('ADD', ctr, stdin), `ADD ${ctr.name}`).json;
  /** The VLANs of a bridge port as "vid[ PVID][ untagged]", sorted by vid. */
  const portVlans = (port) => {
    const entry = JSON.parse(host.exec('bridge', ['-j', 'vlan', 'show', 'dev', port]) || '[]').find((e) => e.ifname === port);
    return (entry?.vlans ?? [])
      .flatMap((v) => Array.from({ length: (v.vlanEnd ?? v.vlan) - v.vlan + 1 }, (_, i) => ({ vid: v.vlan + i, flags: v.flags ?? [] })))
      .sort((a, b) => a.vid - b.vid)
      .map(({ vid, flags }) => `${vid}${flags.includes('PVID') ? ' PVID' : ''}${flags.includes('Egress Untagged') ? ' untagged' : ''}`);
  };
  const link = (name) => host.ipJson('-d', 'link', 'show', 'dev', name)[0];
  const hostVeths = () => host.ipJson('-d', 'link', 'show', 'type', 'veth');
  const reservations = (network) => (existsSync(join(dir, 'ipam', network)) ? readdirSync(join(dir, 'ipam', network)).filter((f) => /^[0-9.]+$/.test(f)) : []);
  return { host, dir, conf, run, add, portVlans, link, hostVeths, reservations };
}

const addressOf = (r) => r.ips[0].address.split('/')[0];
const noLinksBut = (ns, names) =>
  assert.deepEqual(
    ns
      .ipJson('link', 'show')
      .map((l) => l.ifname)
      .sort(),
    [...names].sort(),
  );

labCase('bridge vlan: a new bridge filters VLANs, the port has only its VLAN (PVID, untagged); same VLAN reaches, another does not; CHECK; DEL', async (t) => {
  const n = vlanNode(t);
  // one subnet, two VLANs: only the VLAN separates the containers
  const v100 = n.conf('vl100', '10.60.0.0/24', { vlan: 100 });
  v100.ipam.ranges[0][0].rangeStart = '10.60.0.10';
  v100.ipam.ranges[0][0].rangeEnd = '10.60.0.19';
  const v200 = n.conf('vl200', '10.60.0.0/24', { vlan: 200 });
  v200.ipam.ranges[0][0].rangeStart = '10.60.0.20';
  v200.ipam.ranges[0][0].rangeEnd = '10.60.0.29';
  const [c1, c2, c3] = [t.netns('c1'), t.netns('c2'), t.netns('c3')];
  const r1 = await n.add(c1, v100);
  const r2 = await n.add(c2, v100);
  const r3 = await n.add(c3, v200);
  assert.equal(n.link(BRIDGE).linkinfo.info_data.vlan_filtering, 1, 'the bridge this ADD created filters VLANs');
  assert.deepEqual(n.portVlans(r1.interfaces[1].name), ['100 PVID untagged'], 'the default VLAN 1 is gone (preserveDefaultVlan is false by default)');
  assert.deepEqual(n.portVlans(r2.interfaces[1].name), ['100 PVID untagged']);
  assert.deepEqual(n.portVlans(r3.interfaces[1].name), ['200 PVID untagged']);
  assert.equal(r1.interfaces.length, 3, 'no gateway, no VLAN interface in the result');
  assert.ok(c1.pings(addressOf(r2)), 'VLAN 100 reaches VLAN 100');
  assert.ok(c2.pings(addressOf(r1)), 'and back');
  assert.ok(!c1.pings(addressOf(r3)), 'VLAN 100 does not reach VLAN 200');
  assert.ok(!c3.pings(addressOf(r2)), 'VLAN 200 does not reach VLAN 100');

  expectOk(await n.run('CHECK', c1, { ...v100, prevResult: r1 }), 'CHECK c1');
  // CHECK compares the port's VLANs with what ADD set
  n.host.exec('bridge', ['vlan', 'add', 'dev', r1.interfaces[1].name, 'vid', '1', 'master']);
  const bad = await n.run('CHECK', c1, { ...v100, prevResult: r1 });
  assert.equal(bad.json?.code, 140, bad.stdout);
  assert.match(bad.json.msg, /has VLANs 1, 100 pvid untagged, expected 100 pvid untagged/);

  expectOk(await n.run('DEL', c1, { ...v100, prevResult: r1 }), 'DEL c1');
  expectOk(await n.run('DEL', c2, { ...v100, prevResult: r2 }), 'DEL c2');
  expectOk(await n.run('DEL', c3, { ...v200, prevResult: r3 }), 'DEL c3');
  expectOk(await n.run('DEL', c3, v200), 'a second DEL');
  assert.deepEqual(n.hostVeths(), [], 'no veth left');
  for (const c of [c1, c2, c3]) noLinksBut(c, ['lo']);
  assert.deepEqual([...n.reservations('vl100'), ...n.reservations('vl200')], [], 'no IPAM reservation left');
  assert.equal(n.link(BRIDGE).linkinfo.info_data.vlan_filtering, 1, 'the bridge stays, as in the reference');
});

labCase('bridge vlan: preserveDefaultVlan keeps VLAN 1 on the port, untagged, the PVID moving to the vlan', async (t) => {
  const n = vlanNode(t);
  const conf = n.conf('vlkeep', '10.65.0.0/24', { vlan: 100, preserveDefaultVlan: true });
  const c = t.netns('c');
  const r = await n.add(c, conf);
  assert.deepEqual(n.portVlans(r.interfaces[1].name), ['1 untagged', '100 PVID untagged']);
  expectOk(await n.run('CHECK', c, { ...conf, prevResult: r }), 'CHECK');
  // the same config without preserveDefaultVlan expects VLAN 1 gone
  const strict = await n.run('CHECK', c, { ...conf, preserveDefaultVlan: false, prevResult: r });
  assert.equal(strict.json?.code, 140, strict.stdout);
  expectOk(await n.run('DEL', c, conf), 'DEL');
  assert.deepEqual(n.hostVeths(), []);
});

labCase('bridge vlanTrunk: tagged VLANs plus native VLAN 1 (PVID); a VLAN device on the trunk reaches an access port of that VLAN; vlan with a trunk', async (t) => {
  const n = vlanNode(t);
  const trunkConf = n.conf('vltrunk', '10.62.0.0/24', { vlanTrunk: [{ id: 101 }, { minID: 200, maxID: 202 }] });
  const accessConf = n.conf('vlaccess', '10.61.0.0/24', { vlan: 101 });
  const bothConf = n.conf('vlboth', '10.66.0.0/24', { vlan: 300, vlanTrunk: [{ id: 101 }] });
  const [trunk, access, both] = [t.netns('trunk'), t.netns('access'), t.netns('both')];
  const rt = await n.add(trunk, trunkConf);
  const ra = await n.add(access, accessConf);
  const rb = await n.add(both, bothConf);
  assert.equal(n.link(BRIDGE).linkinfo.info_data.vlan_filtering, 1);
  assert.deepEqual(n.portVlans(rt.interfaces[1].name), ['1 PVID untagged', '101', '200', '201', '202'], 'the trunk: tagged, with the native VLAN 1 of configs without vlan');
  assert.deepEqual(n.portVlans(ra.interfaces[1].name), ['101 PVID untagged']);
  assert.deepEqual(n.portVlans(rb.interfaces[1].name), ['101', '300 PVID untagged'], 'vlan is the native VLAN of a trunk, no VLAN 1');

  // the trunk container tags its own frames for VLAN 101 and reaches the access container
  trunk.ip('link', 'add', 'link', 'eth0', 'name', 'eth0.101', 'type', 'vlan', 'id', '101');
  trunk.ip('addr', 'add', '10.61.0.200/24', 'dev', 'eth0.101');
  trunk.ip('link', 'set', 'eth0.101', 'up');
  assert.ok(trunk.pings(addressOf(ra)), 'the trunk reaches VLAN 101 tagged');
  assert.ok(access.pings('10.61.0.200'), 'and VLAN 101 reaches it');
  // a VLAN the trunk does not carry stays out
  trunk.ip('link', 'add', 'link', 'eth0', 'name', 'eth0.300', 'type', 'vlan', 'id', '300');
  trunk.ip('addr', 'add', '10.66.0.200/24', 'dev', 'eth0.300');
  trunk.ip('link', 'set', 'eth0.300', 'up');
  assert.ok(!trunk.pings(addressOf(rb)), 'VLAN 300 is not on the trunk');

  for (const [c, conf, r] of [
    [trunk, trunkConf, rt],
    [access, accessConf, ra],
    [both, bothConf, rb],
  ]) {
    expectOk(await n.run('CHECK', c, { ...conf, prevResult: r }), `CHECK ${c.name}`);
    expectOk(await n.run('DEL', c, { ...conf, prevResult: r }), `DEL ${c.name}`);
  }
  assert.deepEqual(n.hostVeths(), []);
  for (const c of [access, both]) noLinksBut(c, ['lo']);
  noLinksBut(trunk, ['lo']); // its VLAN devices went with eth0
});

labCase('bridge vlan gateway: isGateway with vlan puts the gateway on <bridge>.<vlan>, in the result; shared by the VLAN; DEL leaves it, as the reference', async (t) => {
  const n = vlanNode(t);
  const conf = n.conf('vlgw', '10.63.0.0/24', { vlan: 100, isGateway: true, isDefaultGateway: true });
  const gateway = `${BRIDGE}.100`;
  const [c1, c2] = [t.netns('c1'), t.netns('c2')];
  const r1 = await n.add(c1, conf);
  assert.equal(r1.interfaces.length, 4, JSON.stringify(r1.interfaces));
  assert.equal(r1.interfaces[3].name, gateway, 'the reference appends the VLAN gateway after the container interface');
  assert.equal(r1.interfaces[3].sandbox, undefined);
  assert.equal(r1.interfaces[3].mac, n.link(gateway).address);
  assert.deepEqual(r1.ips, [{ address: '10.63.0.2/24', gateway: '10.63.0.1', interface: 2 }]);
  const gw = n.link(gateway);
  assert.equal(gw.linkinfo.info_kind, 'veth', 'one end of a veth pair in the host namespace');
  assert.equal(gw.master, undefined, 'the gateway end is not a port');
  assert.deepEqual(
    n.host
      .ipJson('addr', 'show', 'dev', gateway)[0]
      .addr_info.filter((a) => a.family === 'inet')
      .map((a) => `${a.local}/${a.prefixlen}`),
    ['10.63.0.1/24'],
  );
  assert.deepEqual(
    n.host.ipJson('addr', 'show', 'dev', BRIDGE)[0].addr_info.filter((a) => a.family === 'inet'),
    [],
    'the bridge itself gets no gateway address',
  );
  // its other end is a port of the bridge in VLAN 100 (PVID, untagged), default VLAN removed
  const gwPort = n.hostVeths().find((l) => l.master === BRIDGE && l.ifname !== r1.interfaces[1].name);
  assert.ok(gwPort, 'the gateway pair has a bridge port');
  assert.deepEqual(n.portVlans(gwPort.ifname), ['100 PVID untagged']);
  assert.ok(c1.pings('10.63.0.1'), 'the container reaches its gateway in VLAN 100');
  const route = c1.ipJson('route', 'show', 'default')[0];
  assert.equal(route?.gateway, '10.63.0.1');

  const r2 = await n.add(c2, conf);
  assert.equal(r2.interfaces[3].name, gateway);
  assert.equal(n.host.ipJson('link', 'show').filter((l) => l.ifname === gateway).length, 1, 'one gateway interface per VLAN');
  assert.equal(n.hostVeths().filter((l) => l.master === BRIDGE).length, 3, 'two containers and the gateway port');
  assert.ok(c2.pings('10.63.0.1'));
  assert.ok(c2.pings(addressOf(r1)));

  expectOk(await n.run('CHECK', c1, { ...conf, prevResult: r1 }), 'CHECK');
  n.host.ip('addr', 'del', '10.63.0.1/24', 'dev', gateway);
  const bad = await n.run('CHECK', c1, { ...conf, prevResult: r1 });
  assert.equal(bad.json?.code, 140, bad.stdout);
  assert.match(bad.json.msg, /gateway 10\.63\.0\.1 is missing from VLAN gateway interface "labvl0\.100"/);
  n.host.ip('addr', 'add', '10.63.0.1/24', 'dev', gateway);

  expectOk(await n.run('DEL', c1, conf), 'DEL c1');
  expectOk(await n.run('DEL', c2, conf), 'DEL c2');
  noLinksBut(c1, ['lo']);
  noLinksBut(c2, ['lo']);
  assert.deepEqual(n.reservations('vlgw'), []);
  assert.deepEqual(
    n
      .hostVeths()
      .map((l) => l.ifname)
      .sort(),
    [gateway, gwPort.ifname].sort(),
    "nothing of the containers is left; the VLAN's gateway stays with the bridge, as in the reference",
  );
  // the next ADD of the VLAN uses it again
  const c3 = t.netns('c3');
  const r3 = await n.add(c3, conf);
  assert.equal(r3.interfaces[3].name, gateway);
  assert.ok(c3.pings('10.63.0.1'));
  expectOk(await n.run('DEL', c3, conf), 'DEL c3');
});

labCase('bridge vlan: an existing bridge without VLAN filtering is left so, as the reference; ADD warns', async (t) => {
  const n = vlanNode(t);
  n.host.ip('link', 'add', BRIDGE, 'type', 'bridge');
  const conf = n.conf('vlold', '10.67.0.0/24', { vlan: 100 });
  const c = t.netns('c');
  const out = expectOk(await n.run('ADD', c, conf), 'ADD');
  assert.match(out.stderr, /bridge \\"labvl0\\" has no VLAN filtering/);
  assert.equal(n.link(BRIDGE).linkinfo.info_data.vlan_filtering, 0);
  assert.deepEqual(n.portVlans(out.json.interfaces[1].name), ['100 PVID untagged'], 'the port VLANs are set all the same');
  expectOk(await n.run('DEL', c, conf), 'DEL');
  assert.deepEqual(n.hostVeths(), []);
});

labCase('bridge vlan gateway: a failed ADD removes the gateway it created, unless another port is in the VLAN', async (t) => {
  const n = vlanNode(t);
  const conf = n.conf('vlfail', '10.68.0.0/24', { vlan: 100, isGateway: true });
  const failing = { ...conf, ipMasq: true };
  // a file where the masquerade records' directory goes: ADD fails at its last step, after the gateway
  const masqState = join(n.dir, 'state', 'ipmasq');
  mkdirSync(join(n.dir, 'state'), { recursive: true });
  writeFileSync(masqState, 'not a directory');
  const gateway = `${BRIDGE}.100`;
  const names = () => n.host.ipJson('link', 'show').map((l) => l.ifname);

  const c1 = t.netns('c1');
  const f1 = await n.run('ADD', c1, failing);
  assert.notEqual(f1.code, 0, 'ADD with the masquerade state blocked fails');
  assert.deepEqual(names(), ['lo'], 'no gateway, no veth, no bridge (this ADD created it) is left');
  noLinksBut(c1, ['lo']);
  assert.deepEqual(n.reservations('vlfail'), []);

  // c2 is in VLAN 100 without a gateway of its own; c3's failed ADD creates the gateway, which
  // c2's VLAN may use by now: the undo leaves it
  const plain = n.conf('vlfail', '10.68.0.0/24', { vlan: 100 });
  const c2 = t.netns('c2');
  const r2 = await n.add(c2, plain);
  assert.equal(r2.interfaces.length, 3);
  assert.ok(!names().includes(gateway));
  const c3 = t.netns('c3');
  const f3 = await n.run('ADD', c3, failing);
  assert.notEqual(f3.code, 0);
  assert.ok(names().includes(gateway), 'a port of VLAN 100 is left, so the gateway stays');
  noLinksBut(c3, ['lo']);
  assert.deepEqual(n.reservations('vlfail'), [addressOf(r2)], "only c2's address stays reserved");
  assert.ok(c2.pings('10.68.0.1'), 'c2 reaches the gateway address the failed ADD put there');

  rmSync(masqState);
  expectOk(await n.run('DEL', c3, failing), 'DEL c3');
  expectOk(await n.run('DEL', c2, plain), 'DEL c2');
  assert.deepEqual(n.reservations('vlfail'), []);
});
