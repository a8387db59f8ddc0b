import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadNetwork, loadNetworks } from './conf-files';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cnit-conf-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, value: unknown) => writeFileSync(join(dir, name), JSON.stringify(value));

describe('network files as libcni reads them', () => {
  it('cniVersions: the highest of it and cniVersion up to 1.1.0', () => {
    write('10-a.conflist', { cniVersion: '0.4.0', cniVersions: ['1.0.0', '1.2.0', '0.3.1'], name: 'a', plugins: [{ type: 'loopback' }] });
    write('20-b.conflist', { cniVersions: ['0.3.1', '1.1.0'], name: 'b', plugins: [{ type: 'loopback' }] });
    expect(loadNetwork(dir, 'a').list.cniVersion).toBe('1.0.0');
    expect(loadNetwork(dir, 'b').list.cniVersion).toBe('1.1.0');
  });

  it('refuses a cniVersions entry that is no version, a list with no version at all, and versions all above 1.1.0', () => {
    write('10-a.conflist', { cniVersions: ['one'], name: 'a', plugins: [{ type: 'loopback' }] });
    write('20-b.conflist', { name: 'b', plugins: [{ type: 'loopback' }] });
    write('30-c.conflist', { cniVersions: ['2.0.0'], name: 'c', plugins: [{ type: 'loopback' }] });
    expect(() => loadNetwork(dir, 'a')).toThrow(/"cniVersions": "one" is not a version/);
    expect(() => loadNetwork(dir, 'b')).toThrow(/no "cniVersion"/);
    expect(() => loadNetwork(dir, 'c')).toThrow(expect.objectContaining({ code: 1 }));
    write('40-d.conflist', { cniVersion: 'latest', cniVersions: ['1.0.0'], name: 'd', plugins: [{ type: 'loopback' }] });
    expect(() => loadNetwork(dir, 'd')).toThrow(/"cniVersion": "latest" is not a version/);
  });

  it('a .conflist takes its plugins, then <dir>/<name>/*.conf in name order; loadOnlyInlinedPlugins keeps to its own', () => {
    write('10-a.conflist', { cniVersion: '1.1.0', name: 'a', plugins: [{ type: 'bridge' }] });
    write('20-b.conflist', { cniVersion: '1.1.0', name: 'b', loadOnlyInlinedPlugins: 'TRUE', plugins: [{ type: 'bridge' }] });
    write('30-c.conflist', { cniVersion: '1.1.0', name: 'c' });
    for (const net of ['a', 'b', 'c']) {
      mkdirSync(join(dir, net));
      write(`${net}/20-tuning.conf`, { type: 'tuning' });
      write(`${net}/10-portmap.conf`, { type: 'portmap', capabilities: { portMappings: true } });
      write(`${net}/30-ignored.json`, { type: 'firewall' });
    }
    expect(loadNetwork(dir, 'a').list.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap', 'tuning']);
    expect(loadNetwork(dir, 'b').list.plugins.map((p) => p.type)).toEqual(['bridge']);
    expect(loadNetwork(dir, 'c').list.plugins.map((p) => p.type)).toEqual(['portmap', 'tuning']);
  });

  it('says what is missing: no plugins anywhere, loadOnlyInlinedPlugins without plugins, a plugin file without a type', () => {
    write('10-a.conflist', { cniVersion: '1.1.0', name: 'a' });
    write('20-b.conflist', { cniVersion: '1.1.0', name: 'b', loadOnlyInlinedPlugins: true });
    write('30-c.conflist', { cniVersion: '1.1.0', name: 'c' });
    mkdirSync(join(dir, 'c'));
    write('c/10-bad.conf', { name: 'no type' });
    expect(() => loadNetwork(dir, 'a')).toThrow(/no plugins, neither in "plugins" nor in .*\/a\/\*\.conf/);
    expect(() => loadNetwork(dir, 'b')).toThrow(/"loadOnlyInlinedPlugins" is true, and there is no "plugins"/);
    expect(() => loadNetwork(dir, 'c')).toThrow(/10-bad\.conf/);
    expect(loadNetworks(dir).map((n) => 'error' in n)).toEqual([true, true, true]);
  });

  it('a single-plugin .conf is a list of one and takes no plugin files', () => {
    write('10-lo.conf', { cniVersion: '1.0.0', name: 'lo', type: 'loopback' });
    mkdirSync(join(dir, 'lo'));
    write('lo/10-tuning.conf', { type: 'tuning' });
    expect(loadNetwork(dir, 'lo').list).toMatchObject({ cniVersion: '1.0.0', plugins: [{ type: 'loopback' }] });
  });
});
