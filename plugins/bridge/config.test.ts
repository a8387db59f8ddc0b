import { describe, expect, it } from 'vitest';
import { cmdArgs } from '../../test/helpers/cmd-args';
import { parseConfig } from './config';

const base = { type: 'bridge', ipam: { type: 'host-local' } };
const parse = (extra: Record<string, unknown> = {}, cniArgs = '') => parseConfig(cmdArgs({ ...base, ...extra }, { cniArgs }));
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return { code: (err as { code: number }).code, msg: (err as Error).message };
  }
  return undefined;
};

describe('bridge parseConfig', () => {
  it('fills the reference defaults', () => {
    expect(parse()).toMatchObject({
      bridge: 'cni0',
      isGateway: false,
      isDefaultGateway: false,
      ipMasq: false,
      hairpinMode: false,
      promiscMode: false,
      enableDad: false,
      ipamType: 'host-local',
      mac: undefined,
    });
  });

  it('makes isDefaultGateway imply isGateway', () => {
    expect(parse({ isDefaultGateway: true })).toMatchObject({ isGateway: true, isDefaultGateway: true });
  });

  it('takes the MAC from CNI_ARGS, args.cni.mac and runtimeConfig.mac, the last winning', () => {
    expect(parse({}, 'MAC=02:00:00:00:00:01').mac).toBe('02:00:00:00:00:01');
    expect(parse({ args: { cni: { mac: '02:00:00:00:00:02' } } }, 'MAC=02:00:00:00:00:01').mac).toBe('02:00:00:00:00:02');
    expect(parse({ args: { cni: { mac: '02:00:00:00:00:02' } }, runtimeConfig: { mac: '02:00:00:00:00:03' } }).mac).toBe('02:00:00:00:00:03');
  });

  it('ignores unknown fields, as the spec asks', () => {
    expect(() => parse({ somethingNew: { x: 1 }, capabilities: { ips: true } })).not.toThrow();
  });

  it('rejects wrong types and bad values naming the field', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ isGateway: 'yes' }, 'field "isGateway": expected boolean'],
      [{ mtu: 20 }, 'field "mtu"'],
      [{ bridge: 'a/b' }, 'invalid field "bridge"'],
      [{ bridge: 'x'.repeat(16) }, 'invalid field "bridge"'],
      [{ hairpinMode: true, promiscMode: true }, 'invalid field "hairpinMode": cannot be used together with promiscMode'],
      [{ disableContainerInterface: true }, 'invalid field "disableContainerInterface"'],
      [{ runtimeConfig: { mac: 'zz:00:00:00:00:00' } }, 'invalid field "runtimeConfig.mac"'],
      [{ runtimeConfig: { mac: '01:00:00:00:00:00' } }, 'multicast'],
      [{ ipMasqBackend: 'iptables' }, 'invalid field "ipMasqBackend"'],
    ];
    for (const [extra, message] of cases) {
      const err = codeOf(() => parse(extra));
      expect(err?.code, message).toBe(7);
      expect(err?.msg).toContain(message);
    }
  });

  it('refuses the fields it does not implement yet with code 2', () => {
    for (const extra of [{ vlan: 10 }, { vlanTrunk: [{ id: 5 }] }, { portIsolation: true }]) {
      expect(codeOf(() => parse(extra))?.code, JSON.stringify(extra)).toBe(2);
    }
    expect(() => parse({ vlan: 0, macspoofchk: false, preserveDefaultVlan: true })).not.toThrow();
  });
});
