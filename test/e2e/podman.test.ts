import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STATE_DIR } from '../../lib/state/attachment-state';
import { BIN_DIR } from '../helpers/exec-plugin';
import { TestNetns } from '../helpers/netns';
import { requireRoot } from '../helpers/root';

/**
 * Podman 4 (Debian's package, CNI backend, runc, cgroupfs) running containers on our bin/.
 * Podman itself runs inside a throw-away network namespace (nsenter --net), so its bridge, our
 * nftables table and the sysctls it needs live there, not in the machine's root namespace. What
 * Podman keeps on disk goes to a temporary directory; what the plugins keep on disk goes to their
 * default places (a runtime does not pass our environment to the cleanup process it forks), and
 * only this network's files there are removed afterwards.
 */
const NETWORK = `cnits-e2e-${process.pid}`;
const SUBNET = '10.78.0.0/24';
const HOST_PORT = 18080;

let dir: string;
let podhost: TestNetns;
let env: NodeJS.ProcessEnv;

function podman(...args: string[]): string {
  const r = spawnSync('nsenter', [`--net=${podhost.path}`, 'podman', ...args], { encoding: 'utf8', env, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

/** An HTTP GET from inside podhost; undefined when nothing answers within 3 s. */
function httpGet(url: string): string | undefined {
  const script = `fetch(process.argv[1], { signal: AbortSignal.timeout(3000) }).then((r) => r.text()).then((t) => process.stdout.write(t), () => process.exit(1))`;
  const r = spawnSync('nsenter', [`--net=${podhost.path}`, process.execPath, '-e', script, url], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
}

async function eventually<T>(probe: () => T | undefined, timeoutMs = 5000): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined || Date.now() > end) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function writeConfigs(): void {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  mkdirSync(join(rootfs, 'www'));
  // busybox-static: one file that is a whole userland, so no image and no registry are needed
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  writeFileSync(join(rootfs, 'www', 'index.html'), 'hello from podman\n');
  mkdirSync(join(dir, 'net.d'));
  writeFileSync(
    join(dir, 'containers.conf'),
    [
      '[containers]',
      // runc cannot raise these limits in every sandbox; Podman's defaults are higher than this machine allows
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      'runtime = "runc"',
      `tmp_dir = "${join(dir, 'tmp')}"`,
      '[network]',
      'network_backend = "cni"',
      `cni_plugin_dirs = ["${BIN_DIR}"]`,
      `network_config_dir = "${join(dir, 'net.d')}"`,
    ].join('\n'),
  );
  writeFileSync(join(dir, 'storage.conf'), ['[storage]', 'driver = "vfs"', `graphroot = "${join(dir, 'root')}"`, `runroot = "${join(dir, 'run')}"`].join('\n'));
  env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf') };
}

const run = (options: string[], command: string[]) => podman('run', '--network', NETWORK, ...options, '--rootfs', join(dir, 'rootfs'), ...command);

/** Files this network left in the plugins' default state directories. */
function leftovers(): string[] {
  const found: string[] = [];
  const ipam = `/var/lib/cni/networks/${NETWORK}`;
  for (const f of readdirIfAny(ipam)) if (!['lock', 'last_reserved_ip.0'].includes(f)) found.push(join(ipam, f));
  for (const component of readdirIfAny(DEFAULT_STATE_DIR)) {
    const records = join(DEFAULT_STATE_DIR, component, 'attachments', NETWORK);
    for (const f of readdirIfAny(records)) found.push(join(records, f));
  }
  for (const f of readdirIfAny('/var/lib/cni/results')) if (f.startsWith(`${NETWORK}-`)) found.push(join('/var/lib/cni/results', f));
  return found;
}

const readdirIfAny = (path: string) => (existsSync(path) ? readdirSync(path) : []);

function nftElements(): string[] {
  const listing = JSON.parse(execFileSync('nsenter', [`--net=${podhost.path}`, 'nft', '-j', 'list', 'table', 'inet', 'cni_ts'], { encoding: 'utf8' }));
  return listing.nftables.flatMap((x: { set?: { name: string; elem?: unknown[] }; map?: { name: string; elem?: unknown[] } }) => {
    const s = x.set ?? x.map;
    return (s?.elem ?? []).map((e) => `${s!.name} ${JSON.stringify(e)}`);
  });
}

beforeAll(() => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'cnit-podman-'));
  writeConfigs();
  podhost = TestNetns.create('podhost');
  execFileSync('ip', ['-n', podhost.name, 'link', 'set', 'lo', 'up']);
});

afterAll(() => {
  // every step even if an earlier one fails: containers, network, namespace, this network's files
  const steps = [
    () => podman('rm', '--all', '--force', '--time', '0'),
    () => podman('network', 'rm', '--force', NETWORK),
    () => podhost?.destroy(),
    () => rmSync(`/var/lib/cni/networks/${NETWORK}`, { recursive: true, force: true }),
    () => readdirIfAny(DEFAULT_STATE_DIR).forEach((c) => rmSync(join(DEFAULT_STATE_DIR, c, 'attachments', NETWORK), { recursive: true, force: true })),
    () => rmSync(dir, { recursive: true, force: true }),
  ];
  for (const step of steps) {
    try {
      step();
    } catch (err) {
      console.error(`podman test clean-up: ${(err as Error).message}`);
    }
  }
});

describe('Podman 4 on our plugins', () => {
  it('creates a network, serves HTTP through a mapped port and directly, lets a second container in, and leaves nothing after removal', async () => {
    podman('network', 'create', '--subnet', SUBNET, NETWORK);
    const conflist = JSON.parse(readFileSync(join(dir, 'net.d', `${NETWORK}.conflist`), 'utf8'));
    // the conflist Podman generates, unchanged: bridge + host-local, portmap, firewall ("backend": ""), tuning
    expect(conflist.cniVersion).toBe('0.4.0');
    expect(conflist.plugins.map((p: { type: string }) => p.type)).toEqual(['bridge', 'portmap', 'firewall', 'tuning']);

    const id = run(['-d', '--name', 'web', '-p', `127.0.0.1:${HOST_PORT}:80`], ['/bin/busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
    const ip = podman('inspect', 'web', '--format', `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`);
    expect(ip).toMatch(/^10\.78\.0\.\d+$/);

    expect(await eventually(() => httpGet(`http://127.0.0.1:${HOST_PORT}/`))).toBe('hello from podman\n');
    expect(httpGet(`http://${ip}/`)).toBe('hello from podman\n');
    const fromPeer = run(['--rm'], ['/bin/busybox', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc ${ip} 80`]);
    expect(fromPeer).toContain('hello from podman');

    // Podman asked for 0.4.0 and parsed what it got; the cached result is in that version's shape
    const cached = JSON.parse(readFileSync(`/var/lib/cni/results/${NETWORK}-${id}-eth0`, 'utf8'));
    expect(cached.result.cniVersion).toBe('0.4.0');
    expect(cached.result.ips[0]).toMatchObject({ version: '4', address: `${ip}/24`, gateway: '10.78.0.1' });
    expect(nftElements()).toContainEqual(expect.stringContaining(`portmap4_hostip [{"concat":["127.0.0.1","tcp",${HOST_PORT}]},{"concat":["${ip}",80]}]`));

    podman('rm', '--force', '--time', '0', 'web');
    expect(podman('ps', '--all', '--quiet')).toBe('');
    const links = JSON.parse(execFileSync('ip', ['-n', podhost.name, '-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string; link_type: string }>;
    expect(links.filter((l) => l.ifname.startsWith('veth'))).toEqual([]);
    expect(nftElements()).toEqual([]);
    expect(leftovers()).toEqual([]);
    expect(httpGet(`http://127.0.0.1:${HOST_PORT}/`)).toBeUndefined();
  });
});
