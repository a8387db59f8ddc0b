import { describe, expect, it } from 'vitest';
import { cmdArgs, errorOf } from '../../test/helpers/cmd-args';
import { parseConfig } from './config';

const base = { type: 'macvlan', master: 'eth1', ipam: { type: 'host-local' } };
const parse = (extra: Record<string, unknown> = {}, cniArgs = '') => parseConfig(cmdArgs({ ...base, ...extra }, { cniArgs }));

describe('macvlan parseConfig', () => {
  it('fills the reference defaults: bridge mode, the master MTU, no MAC, the master in the host', () => {
    expect(parse()).toMatchObject({ master: 'eth1', mode: 'bridge', mtu: undefined, mac: undefined, linkInContainer: false, bcQueueLen: undefined, ipamType: 'host-local' });
    expect(parse({ master: undefined }).master).toBeUndefined();
    expect(parse({ mode: '' }).mode).toBe('bridge');
  });

  it('takes the four modes, mtu (0 is unset), linkInContainer, bcqueuelen and dns', () => {
    for (const mode of ['bridge', 'private', 'vepa', 'passthru']) expect(parse({ mode }).mode).toBe(mode);
    expect(parse({ mtu: 1400, linkInContainer: true, bcqueuelen: 100, dns: { nameservers: ['10.0.0.1'] } })).toMatchObject({
      mtu: 1400,
      linkInContainer: true,
      bcQueueLen: 100,
      dns: { nameservers: ['10.0.0.1'] },
    });
    expect(parse({ mtu: 0 }).mtu).toBeUndefined();
  });

  it('has no IPAM when none is configured: an L2-only interface', () => {
    expect(parse({ ipam: undefined }).ipamType).toBeUndefined();
    expect(parse({ ipam: {} }).ipamType).toBeUndefined();
  });

  it('takes the MAC from the config, CNI_ARGS MAC and runtimeConfig.mac, the last winning', () => {
    expect(parse({ mac: '02:00:00:00:00:01' }).mac).toBe('02:00:00:00:00:01');
    expect(parse({ mac: '02:00:00:00:00:01' }, 'MAC=02:00:00:00:00:02').mac).toBe('02:00:00:00:00:02');
    expect(parse({ mac: '02:00:00:00:00:01', runtimeConfig: { mac: '02:00:00:00:00:03' } }, 'MAC=02:00:00:00:00:02').mac).toBe('02:00:00:00:00:03');
  });

  it('rejects wrong types and bad values naming the field (code 7)', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ mode: 'bridged' }, 'invalid field "mode"'],
      [{ mtu: -1 }, 'invalid field "mtu"'],
      [{ mtu: '1500' }, 'field "mtu": expected number'],
      [{ master: 'a/b' }, 'invalid field "master"'],
      [{ linkInContainer: 'yes' }, 'field "linkInContainer": expected boolean'],
      [{ mac: 'zz:00:00:00:00:00' }, 'invalid field "mac"'],
      [{ runtimeConfig: { mac: '01:00:00:00:00:00' } }, 'multicast'],
      [{ bcqueuelen: -5 }, 'field "bcqueuelen"'],
    ];
    for (const [extra, message] of cases) {
      const err = errorOf(() => parse(extra));
      expect(err?.code, message).toBe(7);
      expect(err?.msg).toContain(message);
    }
  });

  it('refuses CNI_ARGS keys it does not know unless IgnoreUnknown (code 4)', () => {
    expect(errorOf(() => parse({}, 'FOO=1'))?.code).toBe(4);
    expect(() => parse({}, 'IgnoreUnknown=1;FOO=1;K8S_POD_NAME=x')).not.toThrow();
  });
});
