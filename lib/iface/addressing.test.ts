import { describe, expect, it } from 'vitest';
import { formatIP, formatPrefix } from '../ip';
import { addressingOf, containerRoutes } from './addressing';

describe('addressing and routes from an IPAM result', () => {
  it('keeps IPAM gateways and computes the first address when IPAM gave none', () => {
    const a = addressingOf([{ address: '10.1.2.7/24', gateway: '10.1.2.254' }, { address: 'fd00::7/64' }]);
    expect(a.map((x) => [formatIP(x.ip), formatPrefix(x.subnet), formatIP(x.gateway)])).toEqual([
      ['10.1.2.7', '10.1.2.0/24', '10.1.2.254'],
      ['fd00::7', 'fd00::/64', 'fd00::1'],
    ]);
  });

  it('adds a default route per family via its gateway when isDefaultGateway, unless IPAM gave one', () => {
    const a = addressingOf([
      { address: '10.1.2.7/24', gateway: '10.1.2.1' },
      { address: 'fd00::7/64', gateway: 'fd00::1' },
    ]);
    expect(containerRoutes([], a, true)).toEqual([
      { dst: '0.0.0.0/0', gw: '10.1.2.1' },
      { dst: '::/0', gw: 'fd00::1' },
    ]);
    expect(containerRoutes([{ dst: '0.0.0.0/0' }], a, true)).toEqual([{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd00::1' }]);
    expect(containerRoutes([{ dst: '10.9.0.0/16' }], a, false)).toEqual([{ dst: '10.9.0.0/16' }]);
  });
});
