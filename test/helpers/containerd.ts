import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { baseEnv } from './base-env';
import { CriClient } from './cri/client';
import type { TestNetns } from './netns';
import { PAUSE_IMAGE, pauseImage } from './pause-image';
import { until } from './poll';
import { killGroup } from './private-bus';

const TEST_CACHE = process.env.CNI_TS_TEST_CACHE ?? '/var/cache/cni-ts-test';
/** Debian's containerd, unpacked by scripts/unpack-debs.sh (never installed). */
export const CONTAINERD_ROOT = join(TEST_CACHE, 'containerd', 'root');
const CONTAINERD = join(CONTAINERD_ROOT, 'usr/bin/containerd');
const CTR = join(CONTAINERD_ROOT, 'usr/bin/ctr');
const NETNS_DIR = '/run/netns';

export interface TestContainerd {
  /** The kubelet's side of CRI on its socket. */
  cri: CriClient;
  /** CRI's CNI conf_dir: the conflists it reads (the first by name). */
  confDir: string;
  /** Runs a command in containerd's mount namespace (where the pods' namespace files are mounted). */
  inMounts(command: string, ...args: string[]): string;
  /** Stops containerd (SIGTERM) and starts it again on the same root and state: pods keep running. */
  restart(): Promise<void>;
  /** Everything that is left: pods stopped and removed through CRI, then containerd, shims and sandboxes killed. */
  stop(): Promise<void>;
}

const running = new Set<TestContainerd>();

/** Registers an afterEach that stops every containerd a test started; call after useNodeFixture, so it runs before the namespaces go. */
export function useContainerd(): void {
  afterEach(async () => {
    for (const c of [...running]) await c.stop();
  });
}

/**
 * A private containerd serving CRI v1 on a socket in `dir`: its own root, state, runc root and
 * config, in `host`'s network namespace (so pods' bridges, veths and rules are the host's) and a
 * mount namespace of its own, kept across restarts (so its mounts and the pods' namespace files
 * stay out of the machine's). CRI runs the plugins of `binDir` with the conflists of `<dir>/net.d`; its sandbox
 * image is imported from an archive built here.
 */
export async function startContainerd(host: TestNetns, dir: string, binDir: string, extraEnv: Record<string, string> = {}): Promise<TestContainerd> {
  if (!existsSync(CONTAINERD)) throw new Error(`containerd is not unpacked in ${CONTAINERD_ROOT}: run scripts/setup.sh, which unpacks it (scripts/unpack-debs.sh)`);
  const confDir = join(dir, 'net.d');
  mkdirSync(confDir, { recursive: true });
  const socket = join(dir, 'containerd.sock');
  const config = join(dir, 'containerd.toml');
  writeFileSync(config, configText(dir, binDir, confDir, socket));
  // containerd passes its environment on to the plugins, as go-cni does
  const env = { ...baseEnv(), PATH: `${join(CONTAINERD_ROOT, 'usr/bin')}:${process.env.PATH}`, ...extraEnv };
  const netnsBefore = new Set(readdirSync(NETNS_DIR));
  const logFile = join(dir, 'containerd.log');
  let child: ChildProcess | undefined;
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  // a process holding the mount namespace (in the node's network namespace), so that a restarted
  // containerd finds the mounts of the pods it left running, as on a node
  const holder = spawn('nsenter', [`--net=${host.path}`, 'unshare', '--mount', '--propagation', 'private', 'sleep', 'infinity'], { detached: true, stdio: 'ignore' });
  const ownMounts = readlinkSync('/proc/self/ns/mnt');
  await until('the mount namespace holder', () => readlinkSync(`/proc/${holder.pid}/ns/mnt`) !== ownMounts && readFileSync(`/proc/${holder.pid}/comm`, 'utf8').trim() === 'sleep');
  const launch = async () => {
    child = spawn('sh', ['-c', 'exec nsenter -t "$0" -m -n "$1" --config "$2" >>"$3" 2>&1', String(holder.pid), CONTAINERD, config, logFile], {
      detached: true,
      stdio: 'ignore',
      env,
    });
    await until('containerd answering on its socket', () => spawnSync(CTR, ['--address', socket, 'version'], { env }).status === 0, 30_000, { output: log });
  };
  await launch();
  execFileSync(CTR, ['--address', socket, '-n', 'k8s.io', 'images', 'import', '--snapshotter', 'native', pauseImage(TEST_CACHE)], { env, stdio: 'pipe' });
  let cri = new CriClient(socket);

  const kill = () => {
    if (child) killGroup(child);
    killGroup(holder);
    // the shims were started in sessions of their own; the sandboxes are runc containers under our runc root
    const runcRoot = join(dir, 'runc', 'k8s.io');
    if (existsSync(runcRoot)) {
      for (const id of spawnSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) {
        spawnSync('runc', ['--root', runcRoot, 'kill', id, 'KILL']);
        spawnSync('runc', ['--root', runcRoot, 'delete', '-f', id]);
      }
    }
    spawnSync('pkill', ['-KILL', '-f', `address ${socket}`]);
    // a namespace file whose mount was in containerd's mount namespace: an empty file once that is gone
    for (const name of readdirSync(NETNS_DIR)) if (name.startsWith('cni-') && !netnsBefore.has(name)) spawnSync('rm', ['-f', join(NETNS_DIR, name)]);
  };

  const instance: TestContainerd = {
    get cri() {
      return cri;
    },
    confDir,
    inMounts(command, ...args) {
      return execFileSync('nsenter', ['-t', String(holder.pid), '-m', command, ...args], { encoding: 'utf8' });
    },
    async restart() {
      cri.close();
      // containerd alone, as systemd's KillMode=process does: the shims and pods run on
      if (child?.pid) process.kill(child.pid, 'SIGTERM');
      await until('containerd to stop', () => child?.exitCode !== null || child?.signalCode !== null, 15_000, { output: log });
      await launch();
      cri = new CriClient(socket);
    },
    async stop() {
      running.delete(instance);
      try {
        for (const id of await cri.listPodSandboxes()) {
          await cri.stopPodSandbox(id).catch(() => undefined);
          await cri.removePodSandbox(id).catch(() => undefined);
        }
      } catch {
        // containerd is gone already: kill() below takes what it left
      } finally {
        cri.close();
        kill();
      }
    },
  };
  running.add(instance);
  return instance;
}

function configText(dir: string, binDir: string, confDir: string, socket: string): string {
  return `version = 2
root = "${join(dir, 'root')}"
state = "${join(dir, 'state')}"
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, 'opt')}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # this machine may run in a container itself: no lower OOM score than its own
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "runc"
        Root = "${join(dir, 'runc')}"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${binDir}"
    conf_dir = "${confDir}"
    max_conf_num = 1
`;
}
