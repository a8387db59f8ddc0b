import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { installTree, parseUnit, REPO, runInstall, type InstallTree } from '../helpers/install-tree';
import type { TestNetns } from '../helpers/netns';
import { useNodeFixture, type NodeFixture } from '../helpers/node-fixture';
import { until } from '../helpers/poll';
import { killGroup, startPrivateBus } from '../helpers/private-bus';
import { addChain, chainEnv, NFT_ONLY } from '../helpers/podman-chain';
import { UPLINK } from '../helpers/topology';
import { ask, serve } from '../helpers/traffic';

let node: NodeFixture;
const pool = useNodeFixture('cnit-units-', (fixture) => (node = fixture));

/** Processes a test started (the firewalld watcher, a private D-Bus daemon), killed after it, pass or fail. */
const started: ChildProcess[] = [];
afterEach(() => {
  // each was started as the leader of its own process group: the group goes with it
  for (const child of started.splice(0)) killGroup(child);
});

const NFT_UNIT = 'cni-ts-nftables-reload.service';
const DHCP_SOCKET = 'cni-ts-dhcp.socket';
const DHCP_SERVICE = 'cni-ts-dhcp.service';
const FIREWALLD_UNIT = 'cni-ts-firewalld-reload.service';
const WORKERS_SOCKET = 'cni-ts-workers.socket';
const WORKERS_SERVICE = 'cni-ts-workers.service';
const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

/** Installs the suite into the test's directory and returns the installed units, parsed. */
function install(): { tree: InstallTree; nft: ReturnType<typeof parseUnit>; firewalld: ReturnType<typeof parseUnit> } {
  const tree = installTree(node.dir);
  const r = runInstall(tree);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const unit = (name: string) => parseUnit(readFileSync(join(tree.units, name), 'utf8'));
  return { tree, nft: unit(NFT_UNIT), firewalld: unit(FIREWALLD_UNIT) };
}

/**
 * Installs the suite and runs `service`'s ExecStart (plus `extraArgs`) under systemd-socket-activate,
 * which holds a socket at <test dir>/`socketName` as systemd would; waits for the socket. `log` is
 * what the service printed so far.
 */
async function activated(service: string, socketName: string, extraArgs: string[] = []) {
  const { tree } = install();
  const unit = parseUnit(readFileSync(join(tree.units, service), 'utf8'));
  const socketPath = join(node.dir, socketName);
  const [command, ...args] = unit.Service.ExecStart[0].split(/\s+/);
  const activator = spawn('systemd-socket-activate', ['-l', socketPath, command, ...args, ...extraArgs], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH },
  });
  started.push(activator);
  let log = '';
  activator.stdout!.on('data', (c) => (log += c));
  activator.stderr!.on('data', (c) => (log += c));
  await until('the socket', () => existsSync(socketPath));
  return { tree, socketPath, log: () => log };
}

/** `systemd-analyze verify` of installed units says nothing (where systemd-analyze exists). */
function verifyQuietly(tree: InstallTree, ...units: string[]): void {
  if (!has('systemd-analyze')) return;
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...units.map((u) => join(tree.units, u))], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout + r.stderr).toBe('');
}

const NET = { name: 'unitnet', octet: 52 };

/** A container on the bridge with a published port (8080 → 80) and a firewall entry, serving HTTP-ish echo. */
async function containerWithRules(): Promise<TestNetns> {
  const ctr = pool.make('c');
  await addChain(node, NET, ctr, ['bridge', 'portmap', 'firewall'], NFT_ONLY);
  await serve(ctr, 'tcp', 80, 'web');
  return ctr;
}

const published = () => ask(node.outside, 'tcp', UPLINK.host4, 8080);

/** The host's ruleset, table by table in name order (re-creating tables changes their order). */
const ruleset = () =>
  execFileSync('ip', ['netns', 'exec', node.host.name, 'nft', 'list', 'ruleset'], { encoding: 'utf8' })
    .split(/^(?=table )/m)
    .sort()
    .join('');

const flush = () => execFileSync('ip', ['netns', 'exec', node.host.name, 'nft', 'flush', 'ruleset']);

/** Runs a unit's Exec line as systemd would (no shell: the words), in the host namespace, with the chain's state. */
const runExec = (line: string) => {
  const [command, ...args] = line.split(/\s+/);
  return spawnSync('ip', ['netns', 'exec', node.host.name, command, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...chainEnv(node) } });
};

describe('systemd units', () => {
  it('are what systemd expects: re-run with nftables.service (start, restart, reload, stop) and with firewalld.service, on the installed paths', () => {
    const { tree, nft, firewalld } = install();
    const reapply = `${tree.lib}/current/bin/cni-ts-reapply`;
    expect(nft).toEqual({
      Unit: {
        Description: [expect.any(String)],
        After: ['nftables.service'],
        PartOf: ['nftables.service'],
        ReloadPropagatedFrom: ['nftables.service'],
      },
      Service: { Type: ['oneshot'], RemainAfterExit: ['yes'], ExecStart: [reapply], ExecReload: [reapply] },
      Install: { WantedBy: ['nftables.service'] },
    });
    expect(firewalld).toEqual({
      Unit: { Description: [expect.any(String)], After: ['firewalld.service dbus.service'], PartOf: ['firewalld.service'] },
      Service: { Type: ['simple'], ExecStart: [`${tree.lib}/current/libexec/cni-ts-firewalld-reload`], Restart: ['on-failure'], RestartSec: ['5'] },
      Install: { WantedBy: ['firewalld.service'] },
    });
    // the repository's units differ from the installed ones only by the lib directory
    for (const name of [NFT_UNIT, FIREWALLD_UNIT]) {
      const template = readFileSync(join(REPO, 'systemd', name), 'utf8');
      expect(template.replaceAll('@LIBDIR@', tree.lib)).toBe(readFileSync(join(tree.units, name), 'utf8'));
    }
  });

  it.skipIf(!has('systemd-analyze'))('pass `systemd-analyze verify` without a word (keys, values, executables)', () => {
    const { tree } = install();
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(tree.units, NFT_UNIT), join(tree.units, FIREWALLD_UNIT)], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toBe('');
  });

  it(`${NFT_UNIT}: its ExecStart and ExecReload, run as installed, bring every rule and the published port back after \`nft flush ruleset\``, async () => {
    const { nft } = install();
    await containerWithRules();
    expect(published()).toBe(`web saw ${UPLINK.outside4}`);
    const before = ruleset();

    for (const key of ['ExecStart', 'ExecReload'] as const) {
      flush();
      expect(published(), `after the flush (${key})`).toBeUndefined();
      const r = runExec(nft.Service[key][0]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).installed).toMatchObject({ 'bridge ipMasq': 2, portmap: expect.any(Number), firewall: 1 });
      expect(ruleset(), key).toBe(before);
      expect(published(), key).toBe(`web saw ${UPLINK.outside4}`);
    }
  });

  it.skipIf(!has('dbus-daemon') || !has('dbus-monitor') || !has('dbus-send'))(
    `${FIREWALLD_UNIT}: its ExecStart re-applies when it starts and after each firewalld Reloaded signal (a private D-Bus as the system bus), and on nothing else`,
    async () => {
      const { firewalld } = install();
      await containerWithRules();
      const before = ruleset();

      // a bus of the test's own, in its directory, standing in for the system bus
      const bus = await startPrivateBus(node.dir);
      started.push(bus.child);
      const { address } = bus;
      const signal = (member: string) =>
        execFileSync('dbus-send', [`--bus=${address}`, '--type=signal', '/org/fedoraproject/FirewallD1', `org.fedoraproject.FirewallD1.${member}`]);

      // firewalld (re)started: the ruleset is gone when the unit starts
      flush();
      const [command, ...args] = firewalld.Service.ExecStart[0].split(/\s+/);
      const watcher = spawn('ip', ['netns', 'exec', node.host.name, command, ...args], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH, DBUS_SYSTEM_BUS_ADDRESS: address, ...chainEnv(node) },
      });
      started.push(watcher);
      let log = '';
      watcher.stdout!.on('data', (c) => (log += c));
      watcher.stderr!.on('data', (c) => (log += c));
      await until('the first re-apply', () => log.includes('watching firewalld: running cni-ts-reapply') && ruleset() === before);

      // firewall-cmd --reload: firewalld emits Reloaded once it is done. Another signal must not
      // re-apply; nothing is printed for it, so the bound is time: the watcher answered the start
      // within the until above, and a re-apply for a signal takes it well under a second
      flush();
      signal('Other');
      await new Promise((r) => setTimeout(r, 1000));
      expect(ruleset(), `a signal other than Reloaded re-applied: ${log}`).not.toBe(before);
      signal('Reloaded');
      await until(`the re-apply after Reloaded (log: ${log})`, () => ruleset() === before);
      expect(published()).toBe(`web saw ${UPLINK.outside4}`);
      expect(log.match(/firewalld reloaded: running cni-ts-reapply/g)).toHaveLength(1);
      expect(log).not.toContain('failed');
    },
  );

  it(`${DHCP_SOCKET} and ${DHCP_SERVICE}: the reference's socket path, the daemon on the installed path, restarted on failure, enabled through its socket; \`systemd-analyze verify\` says nothing`, () => {
    const { tree } = install();
    const unit = (name: string) => parseUnit(readFileSync(join(tree.units, name), 'utf8'));
    expect(unit(DHCP_SOCKET)).toEqual({
      Unit: { Description: [expect.any(String)], PartOf: [DHCP_SERVICE] },
      Socket: { ListenStream: ['/run/cni/dhcp.sock'], SocketMode: ['0660'], DirectoryMode: ['0700'], RemoveOnStop: ['true'] },
      Install: { WantedBy: ['sockets.target'] },
    });
    expect(unit(DHCP_SERVICE)).toEqual({
      Unit: { Description: [expect.any(String)], Requires: [DHCP_SOCKET], After: [`network.target ${DHCP_SOCKET}`] },
      Service: { Type: ['simple'], ExecStart: [`${tree.lib}/current/bin/dhcp daemon`], Restart: ['on-failure'], RestartSec: ['2'] },
      Install: { Also: [DHCP_SOCKET] },
    });
    for (const name of [DHCP_SOCKET, DHCP_SERVICE]) {
      const template = readFileSync(join(REPO, 'systemd', name), 'utf8');
      expect(template.replaceAll('@LIBDIR@', tree.lib)).toBe(readFileSync(join(tree.units, name), 'utf8'));
    }
    verifyQuietly(tree, DHCP_SOCKET, DHCP_SERVICE);
  });

  it.skipIf(!has('systemd-socket-activate'))(
    `${DHCP_SERVICE}: its ExecStart, run as installed, takes the socket systemd passes (LISTEN_FDS, through the launcher) and serves the plugin on it`,
    async () => {
      // the socket is systemd-socket-activate's, as it would be systemd's: the daemon must not make its own
      const { tree, socketPath, log } = await activated(DHCP_SERVICE, 'dhcp.sock', ['-leasedir', join(node.dir, 'leases')]);
      const status = spawnSync(join(tree.bin, 'dhcp'), {
        input: JSON.stringify({ cniVersion: '1.1.0', name: 'lan', type: 'macvlan', ipam: { type: 'dhcp', daemonSocketPath: socketPath } }),
        encoding: 'utf8',
        env: { PATH: process.env.PATH, CNI_COMMAND: 'STATUS', CNI_PATH: tree.bin },
      });
      expect(status.status, status.stdout + log()).toBe(0);
      await until('the daemon to say it was activated', () => log().includes('"activated":true'));
    },
  );

  it(`${WORKERS_SOCKET} and ${WORKERS_SERVICE}: a root-only socket, the supervisor on the installed path, started at boot, busy workers left to finish on stop; \`systemd-analyze verify\` says nothing`, () => {
    const { tree } = install();
    const unit = (name: string) => parseUnit(readFileSync(join(tree.units, name), 'utf8'));
    expect(unit(WORKERS_SOCKET)).toEqual({
      Unit: { Description: [expect.any(String)], PartOf: [WORKERS_SERVICE] },
      Socket: { ListenStream: ['/run/cni-ts/workers.sock'], SocketMode: ['0600'], DirectoryMode: ['0700'], RemoveOnStop: ['true'] },
      Install: { WantedBy: ['sockets.target'] },
    });
    expect(unit(WORKERS_SERVICE)).toEqual({
      Unit: { Description: [expect.any(String)], Requires: [WORKERS_SOCKET], After: [WORKERS_SOCKET] },
      Service: { Type: ['simple'], ExecStart: [`${tree.lib}/current/bin/cni-ts workers`], KillMode: ['process'], Restart: ['on-failure'], RestartSec: ['2'] },
      Install: { WantedBy: ['multi-user.target'], Also: [WORKERS_SOCKET] },
    });
    verifyQuietly(tree, WORKERS_SOCKET, WORKERS_SERVICE);
  });

  it.skipIf(!has('systemd-socket-activate'))(
    `${WORKERS_SERVICE}: its ExecStart, run as installed, takes the socket systemd passes and serves the installed plugins' calls on it`,
    async () => {
      const { tree, socketPath, log } = await activated(WORKERS_SERVICE, 'workers.sock');
      const version = () =>
        spawnSync(join(tree.bin, 'loopback'), {
          input: JSON.stringify({ cniVersion: '1.0.0' }),
          encoding: 'utf8',
          env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION', CNI_TS_WORKERS_SOCKET: socketPath, CNI_TS_TIMING: '1' },
        });
      // the first connection starts the supervisor (socket activation); its workers serve the calls that follow
      await until('a call served by a worker', () => version().stderr.includes('"startedFrom":"worker"'));
      // the polls above ran synchronously: the supervisor's output reaches log() once the event loop turns
      await until('the supervisor to say it serves on the socket it was passed', () => log().includes('serving on the socket systemd passed'), 5000, { output: log });
      const r = version();
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ cniVersion: '1.0.0' });
    },
  );
});
