// Helpers for the lab cases of the interface plugins that make a link in the container (ipvlan,
// vlan, dummy; test/lab/<plugin>.lab.mjs): a "physical" NIC whose other end plays the LAN, the
// host-local store, a runner per plugin (ours or the reference's), what a failure printed, and the
// container's link and routes with what differs by chance left out, for side-by-side comparisons.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN_DIR, Netns, assert, execPlugin, sh, succeeds } from './harness.mjs';

/** Where Debian's containernetworking-plugins put the reference plugins (copied into the lab by build-initramfs.sh). */
export const REFERENCE_DIR = '/usr/lib/cni';

/**
 * A veth `name` in `host` (up), its other end `lan0` in a fresh LAN namespace with `<v4>.254/24`:
 * the master NIC and the rest of the LAN.
 */
export function lanNic(t, host, v4, name = 'uplink0') {
  const lan = t.netns('lan');
  host.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', lan.name);
  lan.ip('addr', 'add', `${v4}.254/24`, 'dev', 'lan0');
  lan.ip('link', 'set', 'lan0', 'up');
  host.ip('link', 'set', name, 'up');
  return { lan, name, peer: `${v4}.254` };
}

/** host-local on one range, its store in `dir`. */
export const hostLocal = (dir, subnet, extra = {}) => ({ type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet, ...extra }]] });

/** The addresses host-local holds for `network` in the store `dataDir`. */
export function reservations(dataDir, network) {
  const d = join(dataDir, network);
  return existsSync(d) ? readdirSync(d).filter((f) => /^[0-9a-f.:]+$/.test(f)) : [];
}

/**
 * A namespace the case deletes itself with `remove()` (DEL with the namespace gone); removed after
 * the case if it is still there.
 */
export function doomedNetns(t, label) {
  const ns = new Netns(`lab-${label}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`);
  sh('ip', ['netns', 'add', ns.name]);
  t.defer(() => succeeds('ip', ['netns', 'del', ns.name]));
  ns.remove = () => sh('ip', ['netns', 'del', ns.name]);
  return ns;
}

/** Runs `plugin` from `pluginDir` (its CNI_PATH too) in `host` on eth0 of a container: (command, ctr, conf) => outcome. */
export function runner(plugin, host, dir, pluginDir = BIN_DIR) {
  return (command, ctr, stdin) =>
    execPlugin(join(pluginDir, plugin), {
      command,
      containerId: `ctr-${ctr.name}`,
      netns: ctr,
      ifname: 'eth0',
      stdin,
      inNetns: host,
      env: { CNI_PATH: pluginDir, CNI_TS_STATE_DIR: join(dir, 'state') },
    });
}

/** Asserts that the plugin failed with CNI error `code`, and returns its message. */
export function expectCniError(outcome, code, what) {
  assert.notEqual(outcome.code, 0, `${what} should have failed: ${outcome.stdout}`);
  assert.equal(outcome.json?.code, code, `${what}: ${outcome.stdout} ${outcome.stderr}`);
  return outcome.json.msg;
}

/** The names of the links in a namespace. */
export const linkNames = (ns) => ns.ipJson('link', 'show').map((l) => l.ifname);

/**
 * `ip -d -j addr show dev <dev>`, for comparing two plugins' work: without indexes, MACs, lifetimes,
 * the link-local address, DAD flags, carrier, txqlen (the reference's release 1.1.1 sends 0, its
 * current source and ours keep the kernel's 1000) and the names of the other namespaces.
 */
/**
 * linkState, once the kernel's link watch has run (`settle`): it updates a new link's operstate up
 * to a second after the link came up, so a link read at once may still say UNKNOWN.
 */
function settledLinkState(ns, dev, settle) {
  const end = Date.now() + 2000;
  let state = linkState(ns, dev);
  while (settle && state.operstate === 'UNKNOWN' && Date.now() < end) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    state = linkState(ns, dev);
  }
  return state;
}

export function linkState(ns, dev) {
  const [link] = ns.ipJson('-d', 'addr', 'show', 'dev', dev);
  return {
    flags: link.flags.filter((f) => f !== 'NO-CARRIER'),
    mtu: link.mtu,
    operstate: link.operstate,
    link_type: link.link_type,
    promiscuity: link.promiscuity,
    kind: link.linkinfo?.info_kind,
    info_data: link.linkinfo?.info_data,
    parent_in_other_namespace: link.link_netnsid !== undefined,
    addr_info: link.addr_info
      .filter((a) => !(a.scope === 'link' && a.family === 'inet6'))
      .map(({ valid_life_time: _v, preferred_life_time: _p, nodad: _n, tentative: _t, ...a }) => a),
  };
}

/** Every route of a namespace but the kernel's local ones and link-local, as sorted JSON lines. */
export function routeTable(ns) {
  return ['-4', '-6']
    .flatMap((family) => ns.ipJson('-d', family, 'route', 'show', 'table', 'all'))
    .filter((r) => (!r.type || r.type === 'unicast') && r.table !== 'local' && !r.dst.startsWith('fe80') && r.dev !== 'lo')
    .map((r) => JSON.stringify({ ...r, flags: (r.flags ?? []).filter((f) => f !== 'linkdown') }))
    .sort();
}

/** A result with what differs by chance normalised: MACs by their presence, the sandbox by role, an empty dns (1.1.1 prints {}) dropped. */
export function resultShape(result, sandbox) {
  const { dns, interfaces, ...rest } = result;
  return {
    ...rest,
    ...(dns && Object.keys(dns).length ? { dns } : {}),
    interfaces: (interfaces ?? []).map((i) => ({ ...i, mac: typeof i.mac, sandbox: i.sandbox === sandbox ? 'the container' : i.sandbox })),
  };
}

/**
 * The same conf ADDed by the reference and by ours, one after the other into fresh containers of
 * `host` (each with its own IPAM store, so both get the same addresses), then DELeted: the
 * normalised result, link and routes of each, and what `reach(ctr)` says (`operstateMayDiffer`:
 * ours must be UP, the reference's UP or UNKNOWN). Then one suite's ADD must pass the other's CHECK
 * and go with its DEL, both ways.
 */
export async function besideReference(t, plugin, host, dir, conf, { reach = () => undefined, operstateMayDiffer = false } = {}) {
  assert.ok(
    existsSync(join(REFERENCE_DIR, plugin)),
    `${REFERENCE_DIR}/${plugin} is not in the lab (scripts/lab/build-initramfs.sh copies it from the host's containernetworking-plugins)`,
  );
  const sides = { reference: REFERENCE_DIR, ours: BIN_DIR };
  const seen = {};
  for (const [who, pluginDir] of Object.entries(sides)) {
    const c = { ...conf, ipam: { ...conf.ipam, dataDir: join(dir, `ipam-${who}`) } };
    const run = runner(plugin, host, dir, pluginDir);
    const ctr = t.netns(`cmp-${who}`);
    const add = await run('ADD', ctr, c);
    assert.equal(add.code, 0, `${who} ADD: ${add.stdout} ${add.stderr}`);
    seen[who] = { result: resultShape(add.json, ctr.path), link: settledLinkState(ctr, 'eth0', operstateMayDiffer), routes: routeTable(ctr), reach: reach(ctr) };
    const del = await run('DEL', ctr, c);
    assert.equal(del.code, 0, `${who} DEL: ${del.stdout} ${del.stderr}`);
    assert.deepEqual(linkNames(ctr), ['lo'], `${who} DEL leaves only lo`);
  }
  if (operstateMayDiffer) {
    // made in the host and moved, the reference's link can miss the kernel's link-watch update and stay UNKNOWN
    assert.equal(seen.ours.link.operstate, 'UP');
    assert.ok(['UP', 'UNKNOWN'].includes(seen.reference.link.operstate), `the reference's operstate: ${seen.reference.link.operstate}`);
    seen.reference.link.operstate = 'UP';
  }
  assert.deepEqual(seen.ours.result, seen.reference.result, 'the same result');
  assert.deepEqual(seen.ours.link, seen.reference.link, 'the same link');
  assert.deepEqual(seen.ours.routes, seen.reference.routes, 'the same routes');
  assert.deepEqual(seen.ours.reach, seen.reference.reach, 'the same reach');
  for (const [adder, other] of [
    ['reference', 'ours'],
    ['ours', 'reference'],
  ]) {
    const c = { ...conf, ipam: { ...conf.ipam, dataDir: join(dir, 'ipam-cross') } };
    const ctr = t.netns(`cross-${adder}`);
    const add = await runner(plugin, host, dir, sides[adder])('ADD', ctr, c);
    assert.equal(add.code, 0, `${adder} ADD: ${add.stdout} ${add.stderr}`);
    const check = await runner(plugin, host, dir, sides[other])('CHECK', ctr, { ...c, prevResult: add.json });
    assert.equal(check.code, 0, `${other} CHECK of ${adder}'s ADD: ${check.stdout} ${check.stderr}`);
    const del = await runner(plugin, host, dir, sides[other])('DEL', ctr, c);
    assert.equal(del.code, 0, `${other} DEL of ${adder}'s ADD: ${del.stdout} ${del.stderr}`);
    assert.deepEqual(linkNames(ctr), ['lo'], `${other} DEL of ${adder}'s ADD leaves only lo`);
    assert.deepEqual(reservations(c.ipam.dataDir, conf.name), [], `${other} DEL of ${adder}'s ADD releases the address`);
  }
  return seen.ours;
}
