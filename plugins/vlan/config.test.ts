import { describe, expect, it } from 'vitest';
import { cmdArgs, errorOf } from '../../test/helpers/cmd-args';
import { parseConfig } from './config';

const base = { type: 'vlan', master: 'eth1', vlanId: 100, ipam: { type: 'host-local' } };
const parse = (extra: Record<string, unknown> = {}) => parseConfig(cmdArgs({ ...base, ...extra }));

describe('vlan parseConfig', () => {
  it('takes master, vlanId, mtu (0 is unset), linkInContainer and dns', () => {
    expect(parse()).toMatchObject({ master: 'eth1', vlanId: 100, mtu: undefined, linkInContainer: false, ipamType: 'host-local', dns: undefined });
    expect(parse({ mtu: 1400, linkInContainer: true, dns: { nameservers: ['10.0.0.1'] } })).toMatchObject({ mtu: 1400, linkInContainer: true, dns: { nameservers: ['10.0.0.1'] } });
    expect(parse({ mtu: 0 }).mtu).toBeUndefined();
  });

  it('takes ids 0 to 4094; an absent vlanId is 0, as in the reference', () => {
    expect(parse({ vlanId: 0 }).vlanId).toBe(0);
    expect(parse({ vlanId: 4094 }).vlanId).toBe(4094);
    expect(parse({ vlanId: undefined }).vlanId).toBe(0);
  });

  it('rejects a missing master or IPAM, bad ids and wrong types naming the field (code 7)', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ master: undefined }, 'invalid field "master": is required'],
      [{ master: '' }, 'invalid field "master": is required'],
      [{ master: 'a/b' }, 'invalid field "master"'],
      [{ vlanId: 4095 }, 'invalid field "vlanId"'],
      [{ vlanId: -1 }, 'invalid field "vlanId"'],
      [{ vlanId: '100' }, 'field "vlanId": expected number'],
      [{ vlanId: 1.5 }, 'field "vlanId"'],
      [{ mtu: -1 }, 'invalid field "mtu"'],
      [{ linkInContainer: 1 }, 'field "linkInContainer": expected boolean'],
      [{ ipam: undefined }, 'invalid field "ipam": is required'],
      [{ ipam: {} }, 'invalid field "ipam": is required'],
    ];
    for (const [extra, message] of cases) {
      const err = errorOf(() => parse(extra));
      expect(err?.code, message).toBe(7);
      expect(err?.msg).toContain(message);
    }
  });
});
