import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../helpers/root';

beforeAll(requireRoot);

const namespaces = () =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('cni-demo-'));

describe('npm run demo', () => {
  it('publishes a port, reaches a container by name, shows who holds what, and leaves nothing', () => {
    const r = spawnSync('bash', [join(__dirname, '..', '..', 'scripts', 'demo.sh')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // the published port from outside and from the host, then the other container by name and by name.domain
    expect(r.stdout.match(/^hello from web$/gm)).toHaveLength(4);
    expect(r.stdout).toMatch(/tcp 0\.0\.0\.0:8080 -> 10\.99\.0\.\d+:80/);
    expect(r.stdout).toMatch(/^ok +port mappings +1 container\(s\), every entry and rule in place/m);
    expect(r.stdout).toContain('0 elements');
    expect(r.stdout).toContain('container veths on the host: 0, address reservations: 0, dnsmasq running: 0');
    // the last `cni-ts ls`, after DEL
    expect(r.stdout.slice(r.stdout.lastIndexOf('$ cni-ts ls'))).toContain('  no containers');
    expect(namespaces()).toEqual([]);
  });

  it('a failed step exits non-zero and still removes namespaces, servers, dnsmasq and the /etc/netns entry', () => {
    const r = spawnSync('bash', [join(__dirname, '..', '..', 'scripts', 'demo.sh')], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, DEMO_FAIL_AT: 'after-add' } });
    expect(r.status, r.stdout + r.stderr).not.toBe(0);
    expect(r.stdout).toContain('demo FAILED');
    expect(namespaces()).toEqual([]);
    expect(spawnSync('pgrep', ['-f', 'cni-demo-']).status).toBe(1);
    expect(existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((n) => n.startsWith('cni-demo-')) : []).toEqual([]);
  });
});
