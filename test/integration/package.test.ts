import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execPlugin } from '../helpers/exec-plugin';
import { parseUnit, PLUGIN_NAMES, REPO } from '../helpers/install-tree';
import { netnsPool } from '../helpers/netns';
import { requireRoot } from '../helpers/root';
import { startedFrom } from '../helpers/workers';

const VERSION: string = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version;
const ARCH = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
const UNITS = ['cni-ts-firewalld-reload.service', 'cni-ts-nftables-reload.service', 'cni-ts-dhcp.socket', 'cni-ts-dhcp.service', 'cni-ts-workers.socket', 'cni-ts-workers.service'];

let out: string;
let deb: string;
let root: string;
const pool = netnsPool();

beforeAll(() => {
  requireRoot();
  out = mkdtempSync(join(tmpdir(), 'cnit-deb-'));
  // `npm run package`, on the dist/ the tests' global set-up built (no rebuild under running tests)
  const r = spawnSync('npm', ['run', '--silent', 'package', '--', out], { cwd: REPO, encoding: 'utf8', env: { ...process.env, CNI_TS_SKIP_BUILD: '1' } });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  deb = join(out, `cni-ts_${VERSION}_${ARCH}.deb`);
}, 120_000);
afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

/** A scratch root with an empty dpkg database, removed after each test. */
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'cnit-debroot-'));
  for (const d of ['info', 'updates', 'triggers']) mkdirSync(join(root, 'var', 'lib', 'dpkg', d), { recursive: true });
  for (const f of ['status', 'available']) writeFileSync(join(root, 'var', 'lib', 'dpkg', f), '');
});
afterEach(() => {
  pool.destroyAll();
  rmSync(root, { recursive: true, force: true });
});

/**
 * dpkg on the scratch root: the maintainer scripts run on this machine with DPKG_ROOT set (they
 * prefix their paths with it and leave systemd alone); the dependencies are not in the scratch
 * database, so they are reported, not enforced.
 */
const dpkg = (...args: string[]) => spawnSync('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--log=/dev/null', ...args], { encoding: 'utf8' });

/** Everything under the scratch root except dpkg's own database. */
const filesOutsideDpkg = () => (readdirSync(root, { recursive: true }) as string[]).filter((p) => !p.startsWith('var')).sort();

describe('npm run package', () => {
  it(`builds cni-ts_${VERSION}_${ARCH}.deb: the run-time tree under /usr/lib/cni-ts, a link in /opt/cni/bin per plugin, the units, the dependencies`, () => {
    const field = (name: string) => execFileSync('dpkg-deb', ['-f', deb, name], { encoding: 'utf8' }).trim();
    expect([field('Package'), field('Version'), field('Architecture')]).toEqual(['cni-ts', VERSION, ARCH]);
    expect(field('Depends')).toBe('nodejs (>= 20), libnftables1, dnsmasq-base');

    const listing = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' }).trim().split('\n');
    const entries = new Map(
      listing.map((l) => {
        const m = /^\S+ \S+ +\d+ \S+ \S+ \.(\/\S*?)\/?(?: -> (\S+))?$/.exec(l);
        if (!m) throw new Error(`unexpected dpkg-deb -c line: ${l}`);
        return [m[1], m[2]] as const;
      }),
    );
    const lib = `/usr/lib/cni-ts/${VERSION}`;
    expect(entries.get('/usr/lib/cni-ts/current')).toBe(VERSION);
    for (const name of PLUGIN_NAMES) {
      expect(entries.get(`/opt/cni/bin/${name}`), name).toBe(`../../../usr/lib/cni-ts/current/bin/${name}`);
      expect(entries.has(`${lib}/bin/${name}`) && entries.has(`${lib}/dist/${name}.js`), name).toBe(true);
    }
    expect([...entries.keys()].filter((p) => p.startsWith('/opt/cni/bin/')).length).toBe(PLUGIN_NAMES.length);
    for (const unit of UNITS) expect(entries.has(`/lib/systemd/system/${unit}`), unit).toBe(true);
    expect(entries.has(`${lib}/libexec/cni-ts-firewalld-reload`)).toBe(true);
    expect(entries.has(`${lib}/node_modules/koffi/package.json`) && entries.has(`${lib}/node_modules/netlink/package.json`)).toBe(true);
    // nothing outside these places, and no build or test tool
    expect(
      [...entries.keys()].filter(
        (p) =>
          p !== '/' &&
          !/^\/(usr\/lib\/cni-ts|opt\/cni\/bin|lib\/systemd\/system|usr\/share\/doc\/cni-ts)(\/|$)/.test(p) &&
          !['/usr', '/usr/lib', '/opt', '/opt/cni', '/lib', '/lib/systemd', '/usr/share', '/usr/share/doc'].includes(p),
      ),
    ).toEqual([]);
    for (const dev of ['vitest', 'esbuild', 'typescript']) expect(entries.has(`${lib}/node_modules/${dev}`), dev).toBe(false);
  });

  it('installs into a scratch root (dpkg --root), where a plugin runs with the modules of the installed tree; purge leaves nothing', async () => {
    const install = dpkg('-i', deb);
    expect(install.status, install.stdout + install.stderr).toBe(0);
    const bin = join(root, 'opt', 'cni', 'bin');
    expect(readdirSync(bin).sort()).toEqual([...PLUGIN_NAMES].sort());
    expect(realpathSync(join(bin, 'bridge'))).toBe(join(root, 'usr', 'lib', 'cni-ts', VERSION, 'bin', 'bridge'));

    const version = spawnSync(join(bin, 'bridge'), { encoding: 'utf8', env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION', CNI_TS_WORKERS: 'off', CNI_TS_TIMING: '1' } });
    expect(JSON.parse(version.stdout)).toMatchObject({ cniVersion: '1.1.0' });
    expect(startedFrom(version.stderr)).toBe('bundle');
    const ns = pool.make('deb');
    const add = await execPlugin(join(bin, 'loopback'), {
      env: { CNI_TS_WORKERS: 'off' },
      command: 'ADD',
      containerId: 'c1',
      netns: ns.path,
      ifname: 'lo',
      path: bin,
      stdin: { cniVersion: '1.0.0', name: 'lo', type: 'loopback' },
    });
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(ns.ipJson<Array<{ flags: string[] }>>('link', 'show', 'lo')[0].flags).toContain('UP');

    // the units run the installed paths
    const nft = parseUnit(readFileSync(join(root, 'lib', 'systemd', 'system', 'cni-ts-nftables-reload.service'), 'utf8'));
    expect(nft.Service.ExecStart).toEqual(['/usr/lib/cni-ts/current/bin/cni-ts-reapply']);
    expect(existsSync(join(root, nft.Service.ExecStart[0]))).toBe(true);

    // the same package again (the upgrade path): our own links are no obstacle
    const again = dpkg('-i', deb);
    expect(again.status, again.stdout + again.stderr).toBe(0);

    const purge = dpkg('-P', 'cni-ts');
    expect(purge.status, purge.stdout + purge.stderr).toBe(0);
    expect(filesOutsideDpkg()).toEqual([]);
  });

  it("refuses to unpack over another suite's plugin in /opt/cni/bin, or over what scripts/install.sh installed", () => {
    const bin = join(root, 'opt', 'cni', 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'portmap'), 'the reference portmap\n');
    const refused = dpkg('-i', deb);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(`not replacing what is not this package's: ${join(bin, 'portmap')}`);
    expect(readFileSync(join(bin, 'portmap'), 'utf8')).toBe('the reference portmap\n');
    expect(filesOutsideDpkg()).toEqual(['opt', 'opt/cni', 'opt/cni/bin', 'opt/cni/bin/portmap']);

    rmSync(join(root, 'opt'), { recursive: true });
    mkdirSync(join(root, 'usr', 'lib', 'cni-ts'), { recursive: true });
    writeFileSync(join(root, 'usr', 'lib', 'cni-ts', 'manifest'), 'version\t0.1.0-x\n');
    const overInstall = dpkg('-i', deb);
    expect(overInstall.status).not.toBe(0);
    expect(overInstall.stderr).toContain('was installed by scripts/install.sh');
    expect(existsSync(join(root, 'opt'))).toBe(false);
  });
});
