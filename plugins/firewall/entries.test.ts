import { describe, expect, it } from 'vitest';
import { cmdArgs } from '../../test/helpers/cmd-args';
import { parseConfig } from './config';
import { planEntries, type HostFirewall } from './entries';

const conf = (extra: object = {}) => parseConfig(cmdArgs({ cniVersion: '1.0.0', name: 'net', type: 'firewall', ...extra }));
const prev = { cniVersion: '1.0.0', interfaces: [{ name: 'cni0' }], ips: [{ address: '10.88.0.2/16' }, { address: 'fd00::2/64' }] };

/** A host where every question is counted. */
function host(firewalld: boolean, iptables: boolean): HostFirewall & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    firewalldRunning: () => (asked.push('firewalld'), firewalld),
    iptablesForward: (family) => (asked.push(`iptables${family}`), iptables),
  };
}

describe('where the firewall plugin lets addresses through', () => {
  it('no backend: the zone (trusted) when firewalld runs, without asking iptables', () => {
    const h = host(true, true);
    expect(planEntries(conf(), prev, h)).toEqual([
      { kind: 'zone', zone: 'trusted', source: '10.88.0.2/32' },
      { kind: 'zone', zone: 'trusted', source: 'fd00::2/128' },
    ]);
    expect(h.asked).toEqual(['firewalld']);
  });

  it('no backend and no firewalld: the iptables rules where a filter table exists', () => {
    expect(planEntries(conf({ backend: 'nftables' }), prev, host(false, true)).map((e) => e.kind)).toEqual(['allow', 'allow']);
    expect(planEntries(conf(), prev, host(false, false))).toEqual([]);
  });

  it('"firewalld" and "iptables" never ask which one the host has', () => {
    const h = host(false, false);
    expect(planEntries(conf({ backend: 'firewalld', firewalldZone: 'internal' }), prev, h).map((e) => e.kind === 'zone' && e.zone)).toEqual(['internal', 'internal']);
    expect(planEntries(conf({ backend: 'iptables' }), prev, h).map((e) => e.kind)).toEqual(['allow', 'allow']);
    expect(h.asked).toEqual([]);
  });

  it('an attachment without addresses asks nothing', () => {
    const h = host(true, true);
    expect(planEntries(conf(), { cniVersion: '1.0.0', interfaces: [{ name: 'cni0' }] }, h)).toEqual([]);
    expect(h.asked).toEqual([]);
  });
});
