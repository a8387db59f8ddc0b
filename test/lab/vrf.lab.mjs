// The built vrf plugin on the lab's kernel (this host's has no VRF): the container interface into a
// VRF made on demand and removed with its last member, with traffic that the VRF's table carries and
// the main table no longer does; CHECK, DEL (also with the namespace gone), a refused ADD; the same
// links and tables as the reference's vrf.
import { join } from 'node:path';
import { assert, BIN_DIR, execPlugin, expectOk, labCase, succeeds } from './harness.mjs';
import { doomedNetns, expectCniError, REFERENCE_DIR } from './links.mjs';

/** `ifname` in `ctr`, a veth whose other end is in `host` with <v4>.1, the container with <v4>.2, <v6>::2 and a route to 172.<second octet>.0.0/16 through <v4>.1. */
function wire(host, ctr, ifname, v4, v6) {
  const peer = `p${ctr.name.slice(-6)}${ifname}`.slice(0, 15);
  host.ip('link', 'add', peer, 'type', 'veth', 'peer', 'name', ifname, 'netns', ctr.name);
  host.ip('addr', 'add', `${v4}.1/24`, 'dev', peer);
  host.ip('link', 'set', peer, 'up');
  ctr.ip('addr', 'add', `${v4}.2/24`, 'dev', ifname);
  ctr.ip('addr', 'add', `${v6}::2/64`, 'dev', ifname, 'nodad');
  ctr.ip('link', 'set', ifname, 'up');
  ctr.ip('route', 'add', `172.${v4.split('.')[1]}.0.0/16`, 'via', `${v4}.1`, 'dev', ifname);
  return {
    cniVersion: '1.0.0',
    interfaces: [{ name: ifname, sandbox: ctr.path }],
    ips: [
      { address: `${v4}.2/24`, gateway: `${v4}.1`, interface: 0 },
      { address: `${v6}::2/64`, interface: 0 },
    ],
  };
}

/** Runs our vrf (or the one in `pluginDir`) in `host` on `ifname` of a container. */
const runner =
  (host, dir, pluginDir = BIN_DIR) =>
  (command, ctr, ifname, stdin) =>
    execPlugin(join(pluginDir, 'vrf'), {
      command,
      containerId: `ctr-${ctr.name}`,
      netns: ctr,
      ifname,
      stdin,
      inNetns: host,
      env: { CNI_PATH: pluginDir, CNI_TS_STATE_DIR: join(dir, 'state') },
    });
const conf = (prevResult, extra = {}) => ({ cniVersion: '1.0.0', name: 'vrfnet', type: 'vrf', vrfname: 'blue', prevResult, ...extra });
const vrfOf = (ns, name) => ns.ipJson('-d', 'link', 'show', 'dev', name)[0];
const tableRoutes = (ns, table) =>
  ns
    .ipJson('route', 'show', 'table', String(table))
    .map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}`)
    .sort();

labCase(
  'vrf plugin: the interface joins a VRF made on demand (table 1), its routes and IPv6 address follow; traffic goes through the VRF only; CHECK; a second interface shares it; DEL removes the VRF with its last member, also with the namespace gone; a refused ADD changes nothing',
  async (t) => {
    const host = t.netns('host');
    const dir = t.tmpdir('vrf');
    const run = runner(host, dir);
    const ctr = t.netns('c');
    const prev0 = wire(host, ctr, 'eth0', '10.90.0', 'fd90');
    const prev1 = wire(host, ctr, 'eth1', '10.91.0', 'fd91');
    assert.ok(ctr.pings('10.90.0.1'), 'before: the main table reaches the host end');

    assert.deepEqual(expectOk(await run('ADD', ctr, 'eth0', conf(prev0)), 'ADD').json, prev0);
    const blue = vrfOf(ctr, 'blue');
    assert.equal(blue.linkinfo.info_kind, 'vrf');
    assert.equal(blue.linkinfo.info_data.table, 1);
    assert.ok(blue.flags.includes('UP'), 'the VRF is up');
    assert.equal(vrfOf(ctr, 'eth0').master, 'blue');
    assert.ok(
      ctr.ipJson('addr', 'show', 'dev', 'eth0')[0].addr_info.some((a) => a.local === 'fd90::2'),
      'the IPv6 address is back',
    );
    assert.ok(tableRoutes(ctr, 1).includes('172.90.0.0/16 via 10.90.0.1 dev eth0'), "the interface's route is in the VRF's table");
    assert.ok(succeeds('ip', ['netns', 'exec', ctr.name, 'ping', '-c1', '-W2', '-I', 'blue', '10.90.0.1']), 'through the VRF: answered');
    assert.ok(!ctr.pings('10.90.0.1'), 'through the main table: no route any more');

    expectOk(await run('CHECK', ctr, 'eth0', conf(prev0)), 'CHECK');
    expectOk(await run('ADD', ctr, 'eth1', conf(prev1)), 'ADD of a second interface');
    assert.equal(vrfOf(ctr, 'eth1').master, 'blue');
    assert.match(expectCniError(await run('ADD', ctr, 'eth1', conf(prev1, { table: 5 })), 7, 'ADD with another table'), /routing table 1, not 5/);

    expectOk(await run('DEL', ctr, 'eth0', conf(prev0)), 'DEL of the first');
    assert.equal(vrfOf(ctr, 'eth0').master, undefined);
    assert.match(expectCniError(await run('CHECK', ctr, 'eth0', conf(prev0)), 140, 'CHECK after DEL'), /not in VRF/);
    assert.equal(vrfOf(ctr, 'blue').linkinfo.info_kind, 'vrf', 'the VRF stays while eth1 is in it');
    expectOk(await run('DEL', ctr, 'eth1', conf(prev1)), 'DEL of the last');
    assert.deepEqual(ctr.ipJson('link', 'show', 'type', 'vrf'), [], 'the VRF went with its last member');
    expectOk(await run('DEL', ctr, 'eth1', conf(prev1)), 'a second DEL');

    // the name is taken by a link that is not a VRF: refused, nothing changed
    ctr.ip('link', 'add', 'blue', 'type', 'dummy');
    assert.match(expectCniError(await run('ADD', ctr, 'eth0', conf(prev0)), 110, 'ADD onto a dummy'), /not a VRF/);
    assert.equal(vrfOf(ctr, 'eth0').master, undefined);

    const gone = doomedNetns(t, 'gone');
    const prevGone = wire(host, gone, 'eth0', '10.92.0', 'fd92');
    expectOk(await run('ADD', gone, 'eth0', conf(prevGone, { vrfname: 'red', table: 42 })), 'ADD into table 42');
    assert.equal(vrfOf(gone, 'red').linkinfo.info_data.table, 42);
    gone.remove();
    expectOk(await run('DEL', gone, 'eth0', conf(prevGone, { vrfname: 'red', table: 42 })), 'DEL with the namespace gone');
  },
);

labCase('vrf plugin: the same VRF, table, membership and routes as the reference vrf', async (t) => {
  const reference = join(REFERENCE_DIR, 'vrf');
  const host = t.netns('host');
  const dir = t.tmpdir('vrfref');
  const ours = t.netns('ours');
  const theirs = t.netns('theirs');
  const prevOurs = wire(host, ours, 'eth0', '10.93.0', 'fd93');
  const prevTheirs = wire(host, theirs, 'eth0', '10.93.0', 'fd93');
  expectOk(await runner(host, dir)('ADD', ours, 'eth0', conf(prevOurs)), 'our ADD');
  expectOk(await runner(host, dir, REFERENCE_DIR)('ADD', theirs, 'eth0', conf(prevTheirs)), `the reference's ADD (${reference})`);
  const view = (ns) => ({
    vrf: { kind: vrfOf(ns, 'blue').linkinfo.info_kind, table: vrfOf(ns, 'blue').linkinfo.info_data.table, up: vrfOf(ns, 'blue').flags.includes('UP') },
    master: vrfOf(ns, 'eth0').master,
    addresses: ns
      .ipJson('addr', 'show', 'dev', 'eth0')[0]
      .addr_info.filter((a) => a.scope === 'global')
      .map((a) => `${a.local}/${a.prefixlen}`)
      .sort(),
    // the reference here (Debian's 1.1.1) predates copying the interface's routes into the VRF's table (v1.4.0), which ours does as the newest release
    table: tableRoutes(ns, 1).filter((r) => !r.startsWith('local') && !r.includes('fe80') && !r.includes(' via ')),
  });
  assert.deepEqual(view(ours), view(theirs));
});
