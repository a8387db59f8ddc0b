import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_STATE_DIR } from '../../lib/state/attachment-state';
import { BIN_DIR } from './exec-plugin';
import { TestNetns } from './netns';
import { suiteElements } from './podman-chain';
import { requireRoot } from './root';
import { runtimePlace } from './runtime-place';

/** Where containers/dnsname (and ours) keep a network's hosts file, dnsmasq config and pidfile. */
export const DNSNAME_DIR = '/run/containers/cni/dnsname';
const IPAM_DIR = '/var/lib/cni/networks';
const RESULTS_DIR = '/var/lib/cni/results';

const readdirIfAny = (path: string) => (existsSync(path) ? readdirSync(path) : []);

/** Polls `probe` every 200 ms until it returns a value or the time is up (then its last answer). */
export async function eventually<T>(probe: () => T | undefined, timeoutMs = 5000): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined || Date.now() > end) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Podman 4 (Debian's package, CNI backend, runc, cgroupfs) on our bin/, inside a throw-away network
 * namespace (nsenter --net), so its bridges, our nftables table, dnsmasq and the sysctls it needs
 * live there, not in the machine's root namespace. What Podman keeps on disk goes to a temporary
 * directory (containers.conf, vfs storage.conf, conflists, a busybox-static rootfs); what the
 * plugins keep on disk goes to their default places (a runtime does not pass our environment to
 * the clean-up process it forks), and `destroy` removes only the given networks' files there.
 */
export class PodmanHost {
  /** The environment Podman (and anything that shells out to it) must run with. */
  readonly env: NodeJS.ProcessEnv;

  private constructor(
    readonly dir: string,
    readonly ns: TestNetns,
  ) {
    this.env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf') };
  }

  /** Needs root. The rootfs serves "hello from podman" at /www/index.html. */
  static create(label: string): PodmanHost {
    requireRoot();
    const dir = mkdtempSync(join(tmpdir(), `cnit-${label}-`));
    try {
      return PodmanHost.setUp(dir, label);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private static setUp(dir: string, label: string): PodmanHost {
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
    const host = new PodmanHost(dir, TestNetns.create(label));
    execFileSync('ip', ['-n', host.ns.name, 'link', 'set', 'lo', 'up']);
    return host;
  }

  get rootfs(): string {
    return join(this.dir, 'rootfs');
  }

  /** A command run inside the namespace with Podman's environment, in the temporary directory; never throws. */
  inNs(command: string, args: string[], timeoutMs = 60_000): SpawnSyncReturns<string> {
    const place = runtimePlace(this.ns.name, true);
    return spawnSync(place.prefix[0], [...place.prefix.slice(1), command, ...args], { encoding: 'utf8', env: { ...this.env, ...place.env }, cwd: this.dir, timeout: timeoutMs });
  }

  /** Podman's stdout, trimmed; throws with its output when it fails. */
  podman(...args: string[]): string {
    const r = this.inNs('podman', args);
    if (r.status !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  }

  /** busybox in a running container; never throws. */
  busybox(container: string, ...command: string[]): SpawnSyncReturns<string> {
    return this.inNs('podman', ['exec', container, '/bin/busybox', ...command], 10_000);
  }

  /**
   * The page busybox wget in `container` gets at `url`, or undefined when the name does not resolve
   * or nothing answers. (busybox-static's `wget -T` crashes; a name that does not resolve costs 5 s,
   * as glibc then asks the host's resolver, unreachable from here: check that with nslookup.)
   */
  wget(container: string, url: string): string | undefined {
    const r = this.busybox(container, 'wget', '-q', '-O', '-', url);
    return r.status === 0 ? r.stdout : undefined;
  }

  /** The rootfs as an image in the private store (for tools that need one, such as podman-compose). */
  importImage(name: string): string {
    const tar = join(this.dir, 'rootfs.tar');
    execFileSync('tar', ['-C', this.rootfs, '-cf', tar, '.']);
    this.podman('import', tar, name);
    return name;
  }

  /** A container's address on one network. */
  address(container: string, network: string): string {
    return this.podman('inspect', container, '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`);
  }

  /** An HTTP GET from inside the namespace; undefined when nothing answers within 3 s. */
  httpGet(url: string): string | undefined {
    const script = `fetch(process.argv[1], { signal: AbortSignal.timeout(3000) }).then((r) => r.text()).then((t) => process.stdout.write(t), () => process.exit(1))`;
    const r = spawnSync('nsenter', [`--net=${this.ns.path}`, process.execPath, '-e', script, url], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : undefined;
  }

  /** The elements of every set and map in our tables, as "family set element" lines. */
  nftElements(): string[] {
    return suiteElements({ dir: this.dir, host: this.ns });
  }

  /** The veth links left in the namespace (the host sides of containers' interfaces). */
  veths(): string[] {
    return this.ns.ipJson<Array<{ ifname: string }>>('link', 'show').flatMap((l) => (l.ifname.startsWith('veth') ? [l.ifname] : []));
  }

  /** Live dnsmasq processes in this namespace or serving one of `networks`, as "pid args" lines. */
  dnsmasqs(networks: string[]): string[] {
    const ours = `net:[${statSync(this.ns.path).ino}]`;
    return readdirSync('/proc').flatMap((pid) => {
      if (!/^\d+$/.test(pid)) return [];
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'dnsmasq') return [];
        // a zombie has no command line (PID 1 here does not always reap at once)
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
        const serves = networks.some((n) => args.includes(`${DNSNAME_DIR}/${n}/`));
        return args && (serves || readlinkSync(`/proc/${pid}/ns/net`) === ours) ? [`${pid} ${args}`] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
  }

  /** What `network` left behind in the namespace and in the plugins' default directories (empty when nothing). */
  leftovers(network: string): string[] {
    return [
      ...this.dnsmasqs([network]).map((p) => `dnsmasq ${p}`),
      ...this.veths().map((v) => `veth ${v}`),
      ...this.nftElements().map((e) => `nft ${e}`),
      ...networkFiles(network),
    ];
  }

  /**
   * Removes everything, each step even if an earlier one fails: containers, the given networks,
   * their dnsmasq processes, the namespace, their files in the plugins' default directories, the
   * temporary directory.
   */
  destroy(networks: string[]): void {
    const steps = [
      () => this.podman('rm', '--all', '--force', '--time', '0'),
      ...networks.map((n) => () => this.podman('network', 'rm', '--force', n)),
      // a live process keeps a deleted namespace alive, and dnsmasq outlives the DEL of a broken plugin
      () => {
        for (const p of this.dnsmasqs(networks)) process.kill(Number(p.split(' ')[0]), 'SIGKILL');
      },
      () => this.ns.destroy(),
      ...networks.map((n) => () => removeNetworkFiles(n)),
      () => rmSync(this.dir, { recursive: true, force: true }),
    ];
    for (const step of steps) {
      try {
        step();
      } catch (err) {
        console.error(`podman clean-up: ${(err as Error).message}`);
      }
    }
  }
}

/** Our state components (bridge, portmap, …) under /var/lib/cni-ts. */
const components = () => readdirIfAny(DEFAULT_STATE_DIR);

/** The owner files (under /var/lib/cni-ts/<component>/owners) that name `network`, as owner or standby. */
function ownersOf(network: string): string[] {
  return components().flatMap((c) => {
    const owners = join(DEFAULT_STATE_DIR, c, 'owners');
    return readdirIfAny(owners)
      .map((f) => join(owners, f))
      .filter((f) => {
        try {
          // an owner file names its owner, and the attachments standing by for the resource
          const owner: { network?: string; standby?: Array<{ network?: string }> } = JSON.parse(readFileSync(f, 'utf8'));
          return [owner, ...(owner.standby ?? [])].some((h) => h.network === network);
        } catch {
          return false;
        }
      });
  });
}

/**
 * The files `network` has in the plugins' default directories: IPAM reservations, libcni's result
 * cache, our attachment records and owners, dnsname's hosts file, dnsmasq config, pidfile and records.
 */
export function networkFiles(network: string): string[] {
  const found: string[] = [];
  const ipam = join(IPAM_DIR, network);
  for (const f of readdirIfAny(ipam)) if (!['lock', 'last_reserved_ip.0'].includes(f)) found.push(join(ipam, f));
  for (const c of components()) {
    const records = join(DEFAULT_STATE_DIR, c, 'attachments', network);
    for (const f of readdirIfAny(records)) found.push(join(records, f));
  }
  found.push(...ownersOf(network));
  for (const f of readdirIfAny(RESULTS_DIR)) if (f.startsWith(`${network}-`)) found.push(join(RESULTS_DIR, f));
  // dnsname keeps the network's lock and its (then empty) record directories, as host-local keeps its lock
  found.push(...filesUnder(join(DNSNAME_DIR, network)).filter((f) => f !== join(DNSNAME_DIR, network, 'lock')));
  return found;
}

/** Every file (not directory) below `dir`, recursively; empty when it is absent. */
function filesUnder(dir: string): string[] {
  return readdirIfAny(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function removeNetworkFiles(network: string): void {
  for (const f of ownersOf(network)) rmSync(f, { force: true });
  rmSync(join(IPAM_DIR, network), { recursive: true, force: true });
  for (const c of components()) rmSync(join(DEFAULT_STATE_DIR, c, 'attachments', network), { recursive: true, force: true });
  for (const f of readdirIfAny(RESULTS_DIR)) if (f.startsWith(`${network}-`)) rmSync(join(RESULTS_DIR, f), { force: true });
  rmSync(join(DNSNAME_DIR, network), { recursive: true, force: true });
}

/** dnsname's hosts file for `network` (dnsmasq's addn-hosts), one array of fields per line; empty when absent. */
export function dnsnameHosts(network: string): string[][] {
  const file = join(DNSNAME_DIR, network, 'addnhosts');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.split(/\s+/));
}
