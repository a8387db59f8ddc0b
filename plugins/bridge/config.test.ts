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
      vlan: 0,
      vlanTrunk: [],
      vlanFiltering: false,
      preserveDefaultVlan: false,
      portIsolation: false,
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
      [{ ipMasqBackend: 'ebtables' }, 'invalid field "ipMasqBackend": "ebtables" is not a backend'],
    ];
    for (const [extra, message] of cases) {
      const err = codeOf(() => parse(extra));
      expect(err?.code, message).toBe(7);
      expect(err?.msg).toContain(message);
    }
  });

  it('takes vlan, vlanTrunk, preserveDefaultVlan and portIsolation as the reference (preserveDefaultVlan false unless set, since v1.8.0)', () => {
    expect(parse({ vlan: 100, portIsolation: true })).toMatchObject({ vlan: 100, vlanTrunk: [], vlanFiltering: true, preserveDefaultVlan: false, portIsolation: true });
    expect(parse({ vlan: 0, preserveDefaultVlan: true })).toMatchObject({ vlan: 0, vlanFiltering: false, preserveDefaultVlan: true });
    // the trunk's VLANs: single ids and ranges, sorted, each once
    const trunk = parse({ vlanTrunk: [{ id: 300 }, { minID: 10, maxID: 12 }, { id: 11 }, { minID: 20, maxID: 20, id: 5 }] });
    expect(trunk).toMatchObject({ vlan: 0, vlanTrunk: [5, 10, 11, 12, 20, 300], vlanFiltering: true });
    // present but empty still turns VLAN filtering on for a new bridge, as in the reference; entries without ids add nothing
    expect(parse({ vlanTrunk: [] })).toMatchObject({ vlanTrunk: [], vlanFiltering: true });
    expect(parse({ vlanTrunk: [{}] })).toMatchObject({ vlanTrunk: [], vlanFiltering: true });
    expect(parse({ vlan: 4094, vlanTrunk: [{ minID: 1, maxID: 4094 }] }).vlanTrunk).toHaveLength(4094);
  });

  it('refuses bad VLAN settings with code 7, naming the field', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ vlan: 4095 }, 'field "vlan": must be at most 4094'],
      [{ vlan: -1 }, 'field "vlan": must be at least 0'],
      [{ vlan: 1.5 }, 'field "vlan"'],
      [{ vlan: '100' }, 'field "vlan"'],
      [{ vlanTrunk: { id: 5 } }, 'field "vlanTrunk"'],
      [{ vlanTrunk: [5] }, 'field "vlanTrunk[0]"'],
      [{ vlanTrunk: [{ id: '5' }] }, 'field "vlanTrunk[0].id"'],
      [{ vlanTrunk: [{ id: 0 }] }, 'invalid field "vlanTrunk[0].id": 0 is not a VLAN ID (1-4094)'],
      [{ vlanTrunk: [{ id: 5 }, { id: 4095 }] }, 'invalid field "vlanTrunk[1].id"'],
      [{ vlanTrunk: [{ id: 5 }, { id: 6 }, { minID: 0, maxID: 4 }] }, 'invalid field "vlanTrunk[2].minID": 0 is not a VLAN ID'],
      [{ vlanTrunk: [{ id: 5 }, { id: 6 }, { minID: 10, maxID: 5000 }] }, 'invalid field "vlanTrunk[2].maxID": 5000 is not a VLAN ID'],
      [{ vlanTrunk: [{ minID: 20, maxID: 10 }] }, 'invalid field "vlanTrunk[0].minID": 20 is greater than maxID 10'],
      [{ vlanTrunk: [{ maxID: 10 }] }, 'invalid field "vlanTrunk[0].minID": is missing'],
      [{ vlanTrunk: [{ minID: 10, id: 3 }] }, 'invalid field "vlanTrunk[0].maxID": is missing'],
      [{ preserveDefaultVlan: 'no' }, 'field "preserveDefaultVlan": expected boolean'],
      [{ portIsolation: 1 }, 'field "portIsolation": expected boolean'],
      // the gateway interface <bridge>.<vlan> must be a valid interface name
      [{ bridge: 'bridge-0123456', vlan: 100, isGateway: true }, 'invalid field "vlan": with isGateway the gateway goes on an interface named "bridge-0123456.100"'],
      [{ bridge: 'bridge-01234', vlan: 4000, isDefaultGateway: true }, 'invalid field "vlan"'],
    ];
    for (const [extra, message] of cases) {
      const err = codeOf(() => parse(extra));
      expect(err?.code, JSON.stringify(extra)).toBe(7);
      expect(err?.msg).toContain(message);
    }
    // without isGateway no interface is made, so the long name does not matter
    expect(() => parse({ bridge: 'bridge-0123456', vlan: 100 })).not.toThrow();
    expect(() => parse({ bridge: 'bridge-0123', vlan: 999, isGateway: true })).not.toThrow();
  });
});
