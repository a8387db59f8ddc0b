import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { onNetnsDelete, type TestNetns } from './netns';
import { until } from './poll';
import { killGroup, startPrivateBus } from './private-bus';

/** Debian's firewalld, unpacked by scripts/unpack-debs.sh (never installed). */
export const FIREWALLD_ROOT = join(process.env.CNI_TS_TEST_CACHE ?? '/var/cache/cni-ts-test', 'firewalld', 'root');
const PYTHON = '/usr/bin/python3';

export interface TestFirewalld {
  /** DBUS_SYSTEM_BUS_ADDRESS of its bus, for the plugin calls that should see it. */
  busAddress: string;
  /** firewall-cmd with `args` on its bus; throws with the output when it fails. */
  cmd(...args: string[]): string;
  /** The sources bound to `zone`, sorted. */
  sources(zone?: string): string[];
  /** Stops firewalld (its runtime configuration goes with it); the bus stays. */
  stop(): void;
}

/**
 * firewalld running in `host`'s network namespace (its nftables ruleset is the namespace's), on a
 * private D-Bus, with a copy of the package's configuration in `dir` (`defaultZone` set) and a
 * private /run: nothing outside the namespace and `dir` changes. It and its bus are stopped
 * before the namespace is deleted, pass or fail.
 */
export async function startFirewalld(host: TestNetns, dir: string, defaultZone = 'public'): Promise<TestFirewalld> {
  if (!existsSync(join(FIREWALLD_ROOT, 'usr/sbin/firewalld'))) {
    throw new Error(`firewalld is not unpacked in ${FIREWALLD_ROOT}: run scripts/setup.sh, which unpacks it (scripts/unpack-debs.sh)`);
  }
  const bus = await startPrivateBus(dir);
  const etc = join(dir, 'firewalld-etc');
  cpSync(join(FIREWALLD_ROOT, 'etc/firewalld'), etc, { recursive: true });
  const conf = join(etc, 'firewalld.conf');
  writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^DefaultZone=.*$/m, `DefaultZone=${defaultZone}`));
  const logFile = join(dir, 'firewalld.log');
  const env = { PATH: process.env.PATH ?? '', PYTHONPATH: join(FIREWALLD_ROOT, 'usr/lib/python3/dist-packages'), DBUS_SYSTEM_BUS_ADDRESS: bus.address };
  const daemon = [
    PYTHON,
    join(FIREWALLD_ROOT, 'usr/sbin/firewalld'),
    '--nofork',
    '--nopid',
    '--system-config',
    etc,
    '--default-config',
    join(FIREWALLD_ROOT, 'usr/lib/firewalld'),
    '--log-target',
    'file',
    '--log-file',
    logFile,
  ];
  // a private /run: firewalld keeps its temporary files in /run/firewalld
  const child = spawn(
    'ip',
    ['netns', 'exec', host.name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /run && exec "$@"', 'firewalld', ...daemon],
    {
      detached: true,
      stdio: 'ignore',
      env,
    },
  );
  const stop = () => killGroup(child);
  onNetnsDelete(host.name, () => {
    stop();
    bus.stop();
  });
  const firewallCmd = (...args: string[]) => spawnSync(PYTHON, [join(FIREWALLD_ROOT, 'usr/bin/firewall-cmd'), ...args], { encoding: 'utf8', env });
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  await until('firewalld running', () => firewallCmd('--state').stdout.trim() === 'running', 30_000, { output: log });
  const cmd = (...args: string[]) => {
    const r = firewallCmd(...args);
    if (r.status !== 0) throw new Error(`firewall-cmd ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  return {
    busAddress: bus.address,
    cmd,
    sources: (zone = 'trusted') => cmd(`--zone=${zone}`, '--list-sources').trim().split(/\s+/).filter(Boolean).sort(),
    stop,
  };
}
