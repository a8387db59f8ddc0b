import { beforeAll, describe, expect, it } from 'vitest';
import { execPlugin } from '../helpers/exec-plugin';
import { requireRoot } from '../helpers/root';

const PLUGINS = ['host-local', 'loopback'];

beforeAll(requireRoot);

describe.each(PLUGINS)('%s protocol', (plugin) => {
  const conf = { cniVersion: '1.0.0', name: 'proto', type: plugin, ipam: { type: 'host-local', ranges: [[{ subnet: '10.250.0.0/24' }]], dataDir: '/tmp/unused' } };

  it('answers VERSION from CNI_PATH alone', async () => {
    const r = await execPlugin(plugin, { command: 'VERSION', stdin: { cniVersion: '1.0.0' } });
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });

  it('prints its name on stderr with no CNI_COMMAND', async () => {
    const r = await execPlugin(plugin, {});
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`CNI ${plugin} plugin`);
  });

  it.each([
    ['an unknown verb', { command: 'FROB', containerId: 'c', netns: '/proc/self/ns/net', ifname: 'eth0' }, conf, 4],
    ['missing env', { command: 'ADD' }, conf, 4],
    ['garbage JSON', { command: 'ADD', containerId: 'c', netns: '/run/netns/x', ifname: 'eth0' }, '{"cniVersion": "1.0', 6],
    ['an unsupported version', { command: 'ADD', containerId: 'c', netns: '/run/netns/x', ifname: 'eth0' }, { ...conf, cniVersion: '0.2.0' }, 1],
    ['a netns that does not exist', { command: 'ADD', containerId: 'c', netns: '/run/netns/cnit-none', ifname: 'eth0' }, conf, 8],
    ['an ifname with a slash', { command: 'ADD', containerId: 'c', netns: '/run/netns/x', ifname: 'a/b' }, conf, 4],
  ])('rejects %s with one error object and exit 1', async (_label, inv, stdin, code) => {
    const r = await execPlugin(plugin, { ...inv, stdin });
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ code });
    expect(typeof r.json.msg).toBe('string');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).not.toMatch(/\n\s+at /);
  });
});
