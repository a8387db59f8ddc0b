// The built dummy plugin (bin/dummy with host-local) on the lab's kernel: a dummy in the container
// with IPAM's address and routes; CHECK, DEL (also with the namespace gone) and a failed ADD leave
// nothing. The reference's release 1.1.1 has no dummy plugin to compare with.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, expectOk, labCase } from './harness.mjs';
import { doomedNetns, expectCniError, hostLocal, linkNames, reservations, runner } from './links.mjs';

labCase(
  'dummy plugin: the IPAM address and routes on a dummy; CHECK passes, then fails when down or gone; DEL leaves nothing, also with the netns gone; a failed ADD leaves nothing',
  async (t) => {
    const host = t.netns('host');
    const dir = t.tmpdir('dummy');
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 10.50.0.53\n');
    const conf = {
      cniVersion: '1.0.0',
      name: 'dmnet',
      type: 'dummy',
      ipam: { ...hostLocal(dir, '10.50.0.0/24'), routes: [{ dst: '10.51.0.0/16' }], resolvConf: join(dir, 'resolv.conf') },
      // the result's dns is IPAM's, not the config's, as in the reference
      dns: { nameservers: ['10.9.9.9'] },
    };
    const run = runner('dummy', host, dir);
    const ctr = t.netns('c');
    const r = expectOk(await run('ADD', ctr, conf), 'ADD').json;
    assert.deepEqual(r, {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'eth0', mac: ctr.ipJson('link', 'show', 'dev', 'eth0')[0].address, sandbox: ctr.path }],
      ips: [{ address: '10.50.0.2/24', gateway: '10.50.0.1', interface: 0 }],
      routes: [{ dst: '10.51.0.0/16' }],
      dns: r.dns,
    });
    assert.deepEqual(r.dns.nameservers, ['10.50.0.53'], "IPAM's dns (host-local's resolvConf), not the config's");
    const link = ctr.ipJson('-d', 'addr', 'show', 'dev', 'eth0')[0];
    assert.equal(link.linkinfo.info_kind, 'dummy');
    assert.ok(link.flags.includes('UP'));
    assert.ok(link.addr_info.some((a) => a.local === '10.50.0.2' && a.prefixlen === 24));
    assert.ok(
      ctr.ipJson('route', 'show', '10.51.0.0/16').some((x) => x.gateway === '10.50.0.1' && x.dev === 'eth0'),
      "IPAM's route via IPAM's gateway",
    );
    assert.ok(ctr.pings('10.50.0.2'), 'the address answers');

    const checkConf = { ...conf, prevResult: r };
    expectOk(await run('CHECK', ctr, checkConf), 'CHECK');
    ctr.ip('link', 'set', 'eth0', 'down');
    assert.match(expectCniError(await run('CHECK', ctr, checkConf), 140, 'CHECK of a link down'), /down/);
    ctr.ip('link', 'del', 'eth0');
    assert.match(expectCniError(await run('CHECK', ctr, checkConf), 140, 'CHECK without the link'), /eth0/);
    expectOk(await run('DEL', ctr, conf), 'DEL without the link');
    assert.deepEqual(reservations(join(dir, 'ipam'), 'dmnet'), []);

    expectOk(await run('ADD', ctr, conf), 'ADD again');
    expectOk(await run('DEL', ctr, conf), 'DEL');
    assert.deepEqual(linkNames(ctr), ['lo']);
    assert.deepEqual(reservations(join(dir, 'ipam'), 'dmnet'), []);
    expectOk(await run('DEL', ctr, conf), 'a second DEL');

    const gone = doomedNetns(t, 'gone');
    expectOk(await run('ADD', gone, conf), 'ADD before the netns goes');
    gone.remove();
    expectOk(await run('DEL', gone, conf), 'DEL with the netns gone');
    assert.deepEqual(reservations(join(dir, 'ipam'), 'dmnet'), []);

    const failing = { ...conf, ipam: { ...conf.ipam, routes: [{ dst: '10.99.0.0/16', gw: '192.0.2.77' }] } };
    assert.notEqual((await run('ADD', ctr, failing)).code, 0, 'ADD with a route through an unreachable gateway fails');
    assert.deepEqual(linkNames(ctr), ['lo'], 'the dummy was removed');
    assert.deepEqual(reservations(join(dir, 'ipam'), 'dmnet'), [], 'the address was released');
    expectCniError(await run('ADD', ctr, { ...conf, ipam: undefined }), 7, 'ADD without IPAM');
  },
);
