import { describe, expect, it } from 'vitest';
import { formatPrefix } from '../../lib/ip';
import { cmdArgs, errorOf } from '../../test/helpers/cmd-args';
import { parseConfig } from './config';

const base = { type: 'ptp', ipam: { type: 'host-local' } };
const parse = (extra: Record<string, unknown> = {}) => parseConfig(cmdArgs({ ...base, ...extra }));

describe('ptp parseConfig', () => {
  it('fills the reference defaults: no masquerade, the kernel MTU, DNS from IPAM', () => {
    expect(parse()).toMatchObject({ ipMasq: false, mtu: undefined, ipamType: 'host-local', dns: undefined, nonMasqueradeCIDRs: [] });
  });

  it('takes ipMasqBackend iptables as nftables: the masquerade is the same', () => {
    expect(() => parse({ ipMasq: true, ipMasqBackend: 'iptables' })).not.toThrow();
  });

  it('takes ipMasq, mtu (0 is unset, as in the reference), dns and ipMasqBackend nftables', () => {
    expect(parse({ ipMasq: true, mtu: 1400, dns: { nameservers: ['10.96.0.10'] }, ipMasqBackend: 'nftables' })).toMatchObject({
      ipMasq: true,
      mtu: 1400,
      dns: { nameservers: ['10.96.0.10'] },
    });
    expect(parse({ mtu: 0 }).mtu).toBeUndefined();
    expect(parse({ dns: {} }).dns).toBeUndefined();
  });

  it('parses nonMasqueradeCIDRs of both families', () => {
    expect(parse({ ipMasq: true, nonMasqueradeCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'] }).nonMasqueradeCIDRs.map(formatPrefix)).toEqual(['10.244.0.0/16', 'fd00:10:244::/56']);
  });

  it('ignores unknown fields and the bridge-only ones, as the reference does', () => {
    expect(() => parse({ somethingNew: 1, isGateway: true, bridge: 'cni0', capabilities: { ips: true } })).not.toThrow();
  });

  it('rejects wrong types and bad values naming the field (code 7)', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ipMasq: 'yes' }, 'field "ipMasq": expected boolean'],
      [{ mtu: 20 }, 'invalid field "mtu"'],
      [{ mtu: 70000 }, 'field "mtu"'],
      [{ ipam: {} }, 'invalid field "ipam.type"'],
      [{ ipam: undefined }, 'invalid field "ipam.type"'],
      [{ ipMasqBackend: 'ebtables' }, 'invalid field "ipMasqBackend": "ebtables" is not a backend'],
      [{ nonMasqueradeCIDRs: ['10.244.0.0'] }, 'invalid field "nonMasqueradeCIDRs[0]"'],
      [{ nonMasqueradeCIDRs: '10.244.0.0/16' }, 'field "nonMasqueradeCIDRs"'],
    ];
    for (const [extra, message] of cases) {
      const err = errorOf(() => parse(extra));
      expect(err?.code, message).toBe(7);
      expect(err?.msg).toContain(message);
    }
  });
});
