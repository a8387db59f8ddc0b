// The lab's kernel has what the host's may lack: the link types of the interface plugins to come
// (dummy, ipvlan, vlan, vrf) and bridge VLAN filtering. Each is made in a throw-away namespace.
import { assert, labCase } from './harness.mjs';

const linkOf = (ns, name) => ns.ipJson('-d', 'link', 'show', 'dev', name)[0];

labCase('kernel: dummy link', (t) => {
  const ns = t.netns('dummy');
  ns.ip('link', 'add', 'dummy0', 'type', 'dummy');
  ns.ip('addr', 'add', '192.0.2.1/24', 'dev', 'dummy0');
  ns.ip('link', 'set', 'dummy0', 'up');
  assert.equal(linkOf(ns, 'dummy0').linkinfo.info_kind, 'dummy');
  assert.ok(ns.pings('192.0.2.1'), 'the dummy address answers');
});

labCase('kernel: ipvlan links (l2, l3) on a parent, traffic between two namespaces', (t) => {
  const host = t.netns('host');
  const a = t.netns('a');
  const b = t.netns('b');
  host.ip('link', 'add', 'parent0', 'type', 'dummy');
  host.ip('link', 'set', 'parent0', 'up');
  for (const [ns, name, mode, addr] of [
    [a, 'iv-a', 'l2', '198.18.0.1'],
    [b, 'iv-b', 'l3', '198.18.0.2'],
  ]) {
    host.ip('link', 'add', name, 'link', 'parent0', 'type', 'ipvlan', 'mode', mode);
    host.ip('link', 'set', name, 'netns', ns.name);
    ns.ip('addr', 'add', `${addr}/24`, 'dev', name);
    ns.ip('link', 'set', name, 'up');
    const info = linkOf(ns, name).linkinfo;
    assert.equal(info.info_kind, 'ipvlan');
    assert.equal(info.info_data.mode, mode);
  }
  assert.ok(a.pings('198.18.0.2'), 'ipvlan slaves of one parent reach each other');
});

labCase('kernel: vlan (802.1Q) link with id 100', (t) => {
  const ns = t.netns('vlan');
  ns.ip('link', 'add', 'parent0', 'type', 'dummy');
  ns.ip('link', 'add', 'link', 'parent0', 'name', 'parent0.100', 'type', 'vlan', 'id', '100');
  const info = linkOf(ns, 'parent0.100').linkinfo;
  assert.equal(info.info_kind, 'vlan');
  assert.equal(info.info_data.protocol, '802.1Q');
  assert.equal(info.info_data.id, 100);
});

labCase('kernel: vrf link with table 10, a slave enslaved', (t) => {
  const ns = t.netns('vrf');
  ns.ip('link', 'add', 'vrf0', 'type', 'vrf', 'table', '10');
  ns.ip('link', 'add', 'port0', 'type', 'dummy');
  ns.ip('link', 'set', 'port0', 'master', 'vrf0');
  ns.ip('link', 'set', 'vrf0', 'up');
  ns.ip('link', 'set', 'port0', 'up');
  ns.ip('addr', 'add', '192.0.2.1/24', 'dev', 'port0');
  const info = linkOf(ns, 'vrf0').linkinfo;
  assert.equal(info.info_kind, 'vrf');
  assert.equal(info.info_data.table, 10);
  assert.equal(linkOf(ns, 'port0').master, 'vrf0');
  const routes = ns.ipJson('route', 'show', 'table', '10');
  assert.ok(
    routes.some((r) => r.dst === '192.0.2.0/24' && r.dev === 'port0'),
    `the slave's subnet route is in table 10: ${JSON.stringify(routes)}`,
  );
});

labCase('kernel: bridge VLAN filtering (bridge vlan add), only ports of one VLAN reach each other', (t) => {
  const node = t.netns('node');
  node.ip('link', 'add', 'br0', 'type', 'bridge', 'vlan_filtering', '1');
  node.ip('link', 'set', 'br0', 'up');
  assert.equal(linkOf(node, 'br0').linkinfo.info_data.vlan_filtering, 1);
  const members = [
    ['c1', 100, '198.18.1.1'],
    ['c2', 100, '198.18.1.2'],
    ['c3', 200, '198.18.1.3'],
  ].map(([label, vid, addr]) => {
    const ns = t.netns(label);
    const port = `p-${label}`;
    node.ip('link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name);
    node.ip('link', 'set', port, 'master', 'br0');
    node.ip('link', 'set', port, 'up');
    // the port carries its VLAN untagged, and no longer the default VLAN 1
    node.exec('bridge', ['vlan', 'del', 'dev', port, 'vid', '1']);
    node.exec('bridge', ['vlan', 'add', 'dev', port, 'vid', String(vid), 'pvid', 'untagged']);
    ns.ip('addr', 'add', `${addr}/24`, 'dev', 'eth0');
    ns.ip('link', 'set', 'eth0', 'up');
    return { ns, port, vid, addr };
  });
  const vlans = JSON.parse(node.exec('bridge', ['-j', 'vlan', 'show']));
  for (const { port, vid } of members) {
    const entry = vlans.find((v) => v.ifname === port);
    assert.deepEqual(
      entry?.vlans.map((v) => [v.vlan, [...(v.flags ?? [])].sort()]),
      [[vid, ['Egress Untagged', 'PVID']]],
      `bridge vlan show for ${port}: ${JSON.stringify(entry)}`,
    );
  }
  const [c1, , c3] = members;
  assert.ok(c1.ns.pings('198.18.1.2'), 'ports of VLAN 100 reach each other');
  assert.ok(!c1.ns.pings(c3.addr), 'VLAN 100 does not reach VLAN 200');
});
