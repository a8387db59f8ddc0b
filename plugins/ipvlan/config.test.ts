import { describe, expect, it } from 'vitest';
import { cmdArgs, errorOf } from '../../test/helpers/cmd-args';
import type { Result } from '../../lib/types';
import { addInputs, parseConfig } from './config';

const base = { type: 'ipvlan', master: 'eth1', ipam: { type: 'host-local' } };
const parse = (extra: Record<string, unknown> = {}) => parseConfig(cmdArgs({ ...base, ...extra }));
const inputs = (extra: Record<string, unknown>, prevResult?: Result) => {
  const cmd = cmdArgs({ ...base, ...extra }, { prevResult });
  return addInputs(parseConfig(cmd), cmd);
};

describe('ipvlan parseConfig', () => {
  it('fills the reference defaults: l2, the master MTU, the master in the host', () => {
    expect(parse()).toMatchObject({ master: 'eth1', mode: 'l2', mtu: undefined, linkInContainer: false, ipamType: 'host-local', dns: undefined });
    expect(parse({ master: undefined }).master).toBeUndefined();
    expect(parse({ master: '' }).master).toBeUndefined();
    expect(parse({ mode: '' }).mode).toBe('l2');
  });

  it('takes the three modes, mtu (0 is unset), linkInContainer and dns', () => {
    for (const mode of ['l2', 'l3', 'l3s']) expect(parse({ mode }).mode).toBe(mode);
    expect(parse({ mtu: 1400, linkInContainer: true, dns: { nameservers: ['10.0.0.1'] } })).toMatchObject({
      mtu: 1400,
      linkInContainer: true,
      dns: { nameservers: ['10.0.0.1'] },
    });
    expect(parse({ mtu: 0 }).mtu).toBeUndefined();
  });

  it('rejects wrong types and bad values naming the field (code 7)', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ mode: 'l4' }, 'invalid field "mode"'],
      [{ mode: 'L2' }, 'invalid field "mode"'],
      [{ mtu: -1 }, 'invalid field "mtu"'],
      [{ mtu: '1500' }, 'field "mtu": expected number'],
      [{ master: 'a b' }, 'invalid field "master"'],
      [{ master: 5 }, 'field "master": expected string'],
      [{ linkInContainer: 'yes' }, 'field "linkInContainer": expected boolean'],
    ];
    for (const [extra, message] of cases) {
      const err = errorOf(() => parse(extra));
      expect(err?.code, message).toBe(7);
      expect(err?.msg).toContain(message);
    }
  });

  it('ignores CNI_ARGS (IPAM reads what it needs), as the reference', () => {
    expect(() => parseConfig(cmdArgs(base, { cniArgs: 'FOO=1' }))).not.toThrow();
  });
});

describe('ipvlan addInputs (ADD, chained or not)', () => {
  const prev: Result = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'net1', sandbox: '/run/netns/x' }],
    ips: [{ address: '10.1.2.2/24', gateway: '10.1.2.1', interface: 0 }],
    routes: [{ dst: '0.0.0.0/0' }],
  };

  it('uses the configured master and IPAM when given', () => {
    expect(inputs({})).toEqual({ master: 'eth1' });
    expect(inputs({}, prev)).toEqual({ master: 'eth1' });
    expect(inputs({ master: undefined })).toEqual({ master: undefined });
  });

  it("takes the master from prevResult's single interface and the addresses from prevResult without IPAM", () => {
    expect(inputs({ master: undefined, ipam: undefined }, prev)).toEqual({ master: 'net1', chained: { ips: prev.ips, routes: prev.routes } });
    expect(inputs({ master: undefined }, prev)).toEqual({ master: 'net1' });
    expect(inputs({ ipam: {} }, { ...prev, routes: undefined })).toEqual({ master: 'eth1', chained: { ips: prev.ips, routes: [] } });
  });

  it('refuses a chained ADD whose prevResult names no single interface, and no IPAM without prevResult addresses (code 7)', () => {
    const two = { ...prev, interfaces: [{ name: 'a' }, { name: 'b' }] };
    expect(errorOf(() => inputs({ master: undefined }, two))).toMatchObject({ code: 7, msg: expect.stringContaining('invalid field "master"') });
    expect(errorOf(() => inputs({ ipam: undefined }))).toMatchObject({ code: 7, msg: expect.stringContaining('invalid field "ipam"') });
    expect(errorOf(() => inputs({ ipam: undefined }, { ...prev, ips: [] }))).toMatchObject({ code: 7, msg: expect.stringContaining('invalid field "ipam"') });
  });
});
