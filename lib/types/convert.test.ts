import { describe, expect, it } from 'vitest';
import { resultFromAnyVersion, resultToVersion } from './convert';
import type { Result } from './result';

const full: Result = {
  cniVersion: '1.1.0',
  interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', mtu: 1400, sandbox: '/run/netns/x' }],
  ips: [
    { address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 },
    { address: 'fd00::2/64', interface: 0 },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1', priority: 5, table: 100 }],
  dns: { nameservers: ['10.0.0.53'] },
};

describe('result conversion', () => {
  it('keeps every field for 1.1.0 and stamps the version', () => {
    expect(resultToVersion(full, '1.1.0')).toEqual({ ...full, cniVersion: '1.1.0' });
    expect(resultToVersion(full, '1.0.0').cniVersion).toBe('1.0.0');
  });

  it('adds ips[].version and drops 1.1-only fields for 0.4.0 and 0.3.x', () => {
    for (const version of ['0.4.0', '0.3.1', '0.3.0']) {
      const out = resultToVersion(full, version) as { ips: Array<Record<string, unknown>>; routes: object[]; interfaces: object[] };
      expect(out.ips.map((i) => i.version)).toEqual(['4', '6']);
      expect(out.routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.0.0.1' }]);
      expect(out.interfaces).toEqual([{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/x' }]);
    }
  });

  it('omits empty lists and an empty dns object', () => {
    expect(resultToVersion({ ips: [], dns: {} }, '1.0.0')).toEqual({ cniVersion: '1.0.0' });
  });

  it('drops ips[].version when reading a legacy result', () => {
    const legacy = { cniVersion: '0.4.0', ips: [{ version: '4', address: '10.0.0.2/24' }] } as unknown as Result;
    expect(resultFromAnyVersion(legacy).ips).toEqual([{ address: '10.0.0.2/24' }]);
  });
});
