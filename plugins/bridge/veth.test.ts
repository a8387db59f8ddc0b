import { describe, expect, it } from 'vitest';
import { portVlanPlan, portVlansAfter } from './veth';

const access = (vid: number) => ({ vid, pvid: true, untagged: true });
const tagged = (vid: number) => ({ vid, pvid: false, untagged: false });
const settle = (port: { vlan: number; trunk: number[]; preserveDefaultVlan: boolean }, defaultPvid: number | undefined = 1) =>
  portVlansAfter(portVlanPlan(port, defaultPvid), defaultPvid);

describe('bridge port VLANs, as the reference sets them up', () => {
  it('leaves a port without vlan or trunk alone, default VLAN included', () => {
    expect(portVlanPlan({ vlan: 0, trunk: [], preserveDefaultVlan: false }, 1)).toEqual({ remove: [], add: [] });
    expect(settle({ vlan: 0, trunk: [], preserveDefaultVlan: false })).toEqual([access(1)]);
  });

  it('vlan: the default VLAN removed, then the VLAN as PVID untagged', () => {
    expect(portVlanPlan({ vlan: 100, trunk: [], preserveDefaultVlan: false }, 1)).toEqual({ remove: [1], add: [access(100)] });
    expect(settle({ vlan: 100, trunk: [], preserveDefaultVlan: false })).toEqual([access(100)]);
  });

  it('preserveDefaultVlan keeps VLAN 1, untagged but no longer the PVID', () => {
    expect(settle({ vlan: 100, trunk: [], preserveDefaultVlan: true })).toEqual([{ vid: 1, pvid: false, untagged: true }, access(100)]);
  });

  it('a trunk alone gets the native VLAN 1 (PVID, untagged) after its tagged VLANs', () => {
    expect(portVlanPlan({ vlan: 0, trunk: [10, 11], preserveDefaultVlan: false }, 1)).toEqual({ remove: [1], add: [tagged(10), tagged(11), access(1)] });
    expect(settle({ vlan: 0, trunk: [10, 11], preserveDefaultVlan: false })).toEqual([access(1), tagged(10), tagged(11)]);
  });

  it('vlan with a trunk: the VLAN is native, the trunk tagged; a trunk VLAN equal to vlan ends tagged (the trunk is added last)', () => {
    expect(settle({ vlan: 100, trunk: [10, 20], preserveDefaultVlan: false })).toEqual([tagged(10), tagged(20), access(100)]);
    expect(settle({ vlan: 100, trunk: [100], preserveDefaultVlan: false })).toEqual([tagged(100)]);
  });

  it('a bridge with another or no default PVID', () => {
    expect(portVlanPlan({ vlan: 100, trunk: [], preserveDefaultVlan: false }, 7).remove).toEqual([7]);
    expect(settle({ vlan: 100, trunk: [], preserveDefaultVlan: true }, 7)).toEqual([{ vid: 7, pvid: false, untagged: true }, access(100)]);
    expect(portVlanPlan({ vlan: 100, trunk: [], preserveDefaultVlan: false }, 0).remove).toEqual([]);
    expect(settle({ vlan: 100, trunk: [], preserveDefaultVlan: false }, undefined)).toEqual([access(100)]);
  });
});
