import { describe, expect, it } from 'vitest';
import { cmdArgs } from '../../test/helpers/cmd-args';
import { parseConfig } from './config';

const parse = (extra: object) => parseConfig(cmdArgs({ cniVersion: '0.4.0', name: 'podman', type: 'firewall', ...extra }));

describe('firewall config', () => {
  it("takes Podman's empty backend and the reference defaults", () => {
    expect(parse({ backend: '' })).toEqual({
      cniVersion: '0.4.0',
      networkName: 'podman',
      backend: 'auto',
      firewalldZone: 'trusted',
      adminChain: 'CNI-ADMIN',
      ingressPolicy: 'open',
    });
    expect(parse({ backend: 'nftables' }).backend).toBe('auto');
  });

  it('"firewalld" with the zone given, or trusted', () => {
    expect(parse({ backend: 'firewalld', firewalldZone: 'internal' })).toMatchObject({ backend: 'firewalld', firewalldZone: 'internal' });
    expect(parse({ backend: 'firewalld', firewalldZone: '' }).firewalldZone).toBe('trusted');
  });

  it('"iptables" asks for the rules whatever the host has; policies and admin chain are kept', () => {
    expect(parse({ backend: 'iptables', ingressPolicy: 'isolated', iptablesAdminChainName: 'ADM' })).toMatchObject({
      backend: 'iptables',
      ingressPolicy: 'isolated',
      adminChain: 'ADM',
    });
    expect(parse({ ingressPolicy: '' }).ingressPolicy).toBe('open');
  });

  it.each([
    [{ backend: 'ipfw' }, 7, 'backend'],
    [{ firewalldZone: 'a b' }, 7, 'firewalldZone'],
    [{ firewalldZone: '../x' }, 7, 'firewalldZone'],
    [{ ingressPolicy: 'deny' }, 7, 'ingressPolicy'],
    [{ iptablesAdminChainName: 'A;B' }, 7, 'iptablesAdminChainName'],
    [{ backend: 3 }, 7, 'backend'],
  ])('%j: code %i naming %s', (extra, code, field) => {
    expect(() => parse(extra)).toThrow(expect.objectContaining({ code, message: expect.stringContaining(`"${field}"`) }));
  });
});
