// The built host-device plugin on a real NIC: the guest's virtio NIC (scripts/lab/run.sh gives it
// one that reaches nothing but user-mode networking's gateway 10.0.2.2). Unlike a veth, a physical
// device outlives a deleted namespace: the kernel gives it back to the initial namespace, down,
// without addresses, under its container name or dev<N> when that name is taken. DEL, with
// CNI_NETNS naming the deleted namespace, must find it (by the alias ADD set) and restore it as it
// was. The guest's root namespace is the "host" here (it is thrown away with the guest); each case
// leaves the NIC as it found it. test/integration/host-device.test.ts plays this return by hand.
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Netns, assert, execPlugin, expectOk, labCase, sh, succeeds } from './harness.mjs';

/** `ip -j args` in the guest's root namespace, parsed. */
const rootJson = (...args) => JSON.parse(sh('ip', ['-j', ...args]) || '[]');
const rootNames = () => rootJson('link', 'show').map((l) => l.ifname);

/** The root namespace's interfaces whose driver is virtio_net, whatever their names. */
function virtioNics() {
  return readdirSync('/sys/class/net').filter((name) => {
    try {
      return basename(readlinkSync(`/sys/class/net/${name}/device/driver`)) === 'virtio_net';
    } catch {
      return false;
    }
  });
}

/** Polls `fn` until it returns something truthy, at most `ms`. */
async function waitFor(what, fn, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What DEL must restore: name, alias, MTU, MAC, up or down, the global IPv4 addresses. */
function nicState(name) {
  const [link] = rootJson('link', 'show', 'dev', name);
  const [addr] = rootJson('addr', 'show', 'dev', name);
  return {
    ifname: link.ifname,
    alias: link.ifalias,
    mtu: link.mtu,
    mac: link.address,
    up: link.flags.includes('UP'),
    addresses: addr.addr_info.filter((a) => a.family === 'inet' && a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`),
  };
}

/**
 * The guest's NIC as an operator left it (an alias, an address, `mtu`, up or down); after the case
 * it is put back as the guest booted it, from wherever the case left it (the case's namespace,
 * removed first, hands it back to the root namespace).
 */
function preparedNic(t, { mtu, up, address }) {
  const nics = virtioNics();
  assert.equal(nics.length, 1, `one virtio_net interface in the guest (scripts/lab/run.sh, init loads virtio_net): ${JSON.stringify(nics)}`);
  const [name] = nics;
  t.defer(async () => {
    const [now] = await waitFor('the NIC back in the root namespace', () => (virtioNics().length ? virtioNics() : undefined));
    sh('ip', ['link', 'set', 'dev', now, 'down']);
    if (now !== name && !rootNames().includes(name)) sh('ip', ['link', 'set', 'dev', now, 'name', name]);
    const [current] = virtioNics();
    sh('ip', ['addr', 'flush', 'dev', current]);
    sh('ip', ['link', 'set', 'dev', current, 'mtu', '1500', 'alias', '']);
  });
  sh('ip', ['link', 'set', 'dev', name, 'down', 'mtu', String(mtu), 'alias', 'uplink of the lab']);
  sh('ip', ['addr', 'flush', 'dev', name]);
  sh('ip', ['addr', 'add', address, 'dev', name]);
  if (up) sh('ip', ['link', 'set', 'dev', name, 'up']);
  const before = nicState(name);
  assert.deepEqual({ ...before, mac: undefined }, { ifname: name, alias: 'uplink of the lab', mtu, mac: undefined, up, addresses: [address] });
  return { name, before };
}

/** A container namespace the case deletes itself (`ip netns del`); removed after the case if still there. */
function containerNetns(t) {
  const ns = new Netns(`lab-hd-${process.pid}-${Math.random().toString(16).slice(2, 8)}`);
  sh('ip', ['netns', 'add', ns.name]);
  t.defer(() => succeeds('ip', ['netns', 'del', ns.name]));
  ns.ip('link', 'set', 'lo', 'up');
  return ns;
}

/** host-device in the guest's root namespace (the host), CNI_IFNAME net1, its state in `dir`. */
const runner = (dir, ctr) => (command, stdin) =>
  execPlugin('host-device', { command, containerId: 'hd-lab', netns: ctr.path, ifname: 'net1', stdin, env: { CNI_TS_STATE_DIR: join(dir, 'state') } });

const records = (dir) => {
  const d = join(dir, 'state', 'host-device', 'attachments', 'hdlab');
  return existsSync(d) ? readdirSync(d) : [];
};

labCase(
  'host-device on a real NIC: ADD moves it in working (up, address, ping); the netns is deleted, the kernel gives it back as net1; DEL finds it and restores name, alias, MTU, address, up; a second DEL succeeds',
  async (t) => {
    const dir = t.tmpdir('host-device');
    const { name, before } = preparedNic(t, { mtu: 1400, up: true, address: '192.0.2.10/24' });
    const ctr = containerNetns(t);
    const conf = {
      cniVersion: '1.0.0',
      name: 'hdlab',
      type: 'host-device',
      device: name,
      ipam: { type: 'static', addresses: [{ address: '10.0.2.15/24', gateway: '10.0.2.2' }], routes: [{ dst: '0.0.0.0/0' }] },
    };
    const run = runner(dir, ctr);

    const r = expectOk(await run('ADD', conf), 'ADD').json;
    assert.deepEqual(
      { ...r, dns: undefined },
      {
        cniVersion: '1.0.0',
        interfaces: [{ name: 'net1', mac: before.mac, sandbox: ctr.path }],
        ips: [{ address: '10.0.2.15/24', gateway: '10.0.2.2', interface: 0 }],
        routes: [{ dst: '0.0.0.0/0' }],
        dns: undefined,
      },
    );
    assert.deepEqual(virtioNics(), [], 'the NIC left the root namespace');
    const [inside] = ctr.ipJson('addr', 'show', 'dev', 'net1');
    assert.ok(inside.flags.includes('UP'), 'up in the container');
    assert.equal(inside.mtu, 1400);
    assert.ok(
      inside.addr_info.some((a) => a.local === '10.0.2.15' && a.prefixlen === 24),
      'the static address in the container',
    );
    assert.equal(ctr.ipJson('link', 'show', 'dev', 'net1')[0].ifalias, name, 'its host name in its alias');
    assert.ok(ctr.pings('10.0.2.2'), "the container reaches user-mode networking's gateway through the NIC");
    // the workload changes it
    ctr.ip('link', 'set', 'dev', 'net1', 'mtu', '1300');

    sh('ip', ['netns', 'del', ctr.name]);
    await waitFor('the kernel to give the NIC back to the root namespace', () => virtioNics().length > 0);
    assert.deepEqual(
      { ...nicState('net1'), mac: undefined },
      { ifname: 'net1', alias: name, mtu: 1300, mac: undefined, up: false, addresses: [] },
      'back under its container name, down, without addresses, its alias kept',
    );

    expectOk(await run('DEL', conf), 'DEL with the netns gone');
    assert.deepEqual(nicState(name), before, 'restored as it was before ADD');
    assert.ok(!rootNames().includes('net1'), 'no net1 left');
    assert.deepEqual(records(dir), [], 'the record is gone');
    expectOk(await run('DEL', conf), 'a second DEL');
    assert.deepEqual(nicState(name), before, 'a second DEL changes nothing');
  },
);

labCase(
  'host-device on a real NIC: both names taken when the netns is deleted, the kernel gives it back as dev<N>; DEL fails naming the taken name, then restores it (down, MTU, alias, address) once the name is free',
  async (t) => {
    const dir = t.tmpdir('host-device');
    const { name, before } = preparedNic(t, { mtu: 1450, up: false, address: '198.51.100.7/24' });
    const ctr = containerNetns(t);
    const conf = { cniVersion: '1.0.0', name: 'hdlab', type: 'host-device', device: name };
    const run = runner(dir, ctr);

    const r = expectOk(await run('ADD', conf), 'ADD without IPAM').json;
    assert.deepEqual(r.interfaces, [{ name: 'net1', mac: before.mac, sandbox: ctr.path }]);
    assert.ok(ctr.ipJson('link', 'show', 'dev', 'net1')[0].flags.includes('UP'), 'up in the container');
    // both its container name and its own name taken in the root namespace meanwhile
    for (const taken of ['net1', name]) {
      sh('ip', ['link', 'add', taken, 'type', 'dummy']);
      t.defer(() => succeeds('ip', ['link', 'del', taken, 'type', 'dummy']));
    }

    sh('ip', ['netns', 'del', ctr.name]);
    const [returned] = await waitFor('the kernel to give the NIC back to the root namespace', () => (virtioNics().length ? virtioNics() : undefined));
    assert.match(returned, /^dev\d+$/, 'net1 is taken: the kernel names it dev<N>');
    assert.deepEqual({ ...nicState(returned), ifname: undefined, mac: undefined }, { ifname: undefined, alias: name, mtu: 1450, mac: undefined, up: false, addresses: [] });

    const refused = await run('DEL', conf);
    assert.notEqual(refused.code, 0, `DEL while ${name} is taken should fail: ${refused.stdout}`);
    assert.equal(refused.json?.code, 110, refused.stdout + refused.stderr);
    assert.ok(refused.json.msg.includes(`"${returned}"`) && refused.json.msg.includes(`"${name}"`), `the message names both: ${refused.json.msg}`);
    assert.deepEqual(virtioNics(), [returned], 'the NIC is left where the kernel put it');
    assert.equal(records(dir).length, 1, 'the record is kept for the next DEL');

    sh('ip', ['link', 'del', name, 'type', 'dummy']);
    expectOk(await run('DEL', conf), 'DEL once the name is free');
    assert.deepEqual(nicState(name), before, 'restored as it was before ADD (down)');
    assert.deepEqual(virtioNics(), [name]);
    assert.equal(rootJson('-d', 'link', 'show', 'dev', 'net1')[0].linkinfo.info_kind, 'dummy', 'the other net1 untouched');
    assert.deepEqual(records(dir), [], 'the record is gone');
    expectOk(await run('DEL', conf), 'a second DEL');
    assert.deepEqual(nicState(name), before);
  },
);
