// The conf-examples that need a link type this host's kernel lacks (a VRF), driven through the built
// cnitool as test/integration/conf-examples-cnitool.test.ts drives the others: add, check and del in
// throw-away namespaces, what the example is for (traffic through the VRF), and nothing left.
import { readFileSync, writeFileSync, mkdirSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { assert, BIN_DIR, labCase, sh, succeeds, SUITE } from './harness.mjs';

/** The example with host-local's store in the case's directory, as the host test does. */
function install(dir, file) {
  const list = JSON.parse(readFileSync(join(SUITE, 'conf-examples', file), 'utf8'));
  for (const plugin of list.plugins) if (plugin.ipam) plugin.ipam.dataDir = join(dir, 'ipam');
  mkdirSync(join(dir, 'net.d'), { recursive: true });
  writeFileSync(join(dir, 'net.d', file), JSON.stringify(list));
  return list;
}

/** bin/cnitool in `host` with the case's conflists, cache and state; its parsed stdout. */
function cnitool(host, dir, args) {
  const env = [`CNI_PATH=${BIN_DIR}`, `NETCONFPATH=${join(dir, 'net.d')}`, `CNI_CACHE_DIR=${join(dir, 'cache')}`, `CNI_TS_STATE_DIR=${join(dir, 'state')}`];
  const out = sh('ip', ['netns', 'exec', host.name, 'env', ...env, join(BIN_DIR, 'cnitool'), ...args]);
  return out.trim() ? JSON.parse(out) : undefined;
}

labCase(
  'conf-examples/84-multus-bridge-vrf.conflist through cnitool: net1 joins VRF red, the subnet and its routes are reached through the VRF only; check; del leaves nothing',
  async (t) => {
    const host = t.netns('host');
    const ctr = t.netns('c');
    const dir = t.tmpdir('examples');
    const list = install(dir, '84-multus-bridge-vrf.conflist');
    const result = cnitool(host, dir, ['add', list.name, ctr.path, '-i', 'net1']);
    assert.equal(result.cniVersion, list.cniVersion);
    assert.match(result.ips[0].address, /^10\.84\.0\.\d+\/24$/);

    const red = ctr.ipJson('-d', 'link', 'show', 'dev', 'red')[0];
    assert.equal(red.linkinfo.info_kind, 'vrf');
    assert.equal(ctr.ipJson('link', 'show', 'dev', 'net1')[0].master, 'red');
    const table = red.linkinfo.info_data.table;
    const vrfRoutes = ctr.ipJson('route', 'show', 'table', String(table)).map((r) => r.dst);
    assert.ok(vrfRoutes.includes('10.84.128.0/17'), `the example's route is in the VRF's table ${table}: ${vrfRoutes}`);
    assert.ok(succeeds('ip', ['netns', 'exec', ctr.name, 'ping', '-c1', '-W2', '-I', 'red', '10.84.0.1']), 'the gateway answers through the VRF');
    assert.ok(!ctr.pings('10.84.0.1'), 'the main table does not reach the subnet');

    cnitool(host, dir, ['check', list.name, ctr.path, '-i', 'net1']);
    cnitool(host, dir, ['del', list.name, ctr.path, '-i', 'net1']);
    assert.deepEqual(
      ctr.ipJson('link', 'show').map((l) => l.ifname),
      ['lo'],
      'no VRF and no interface left in the container',
    );
    assert.deepEqual(host.ipJson('link', 'show', 'type', 'veth'), [], 'no host veth left');
    const ipam = join(dir, 'ipam', list.name);
    assert.deepEqual(existsSync(ipam) ? readdirSync(ipam).filter((f) => f.startsWith('10.')) : [], [], 'no reservation left');
  },
);
