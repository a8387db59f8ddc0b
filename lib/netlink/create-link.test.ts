import { describe, expect, it } from 'vitest';
import { formatLinkMessage } from './package';
import { newLinkAttrs, type NewLinkSpec } from './create-link';
import { linkInfo, toBuffer } from './encode';
import { IPVLAN_MODES, ipvlanInfoData, ipvlanModeOf, type IpvlanMode } from './ipvlan';
import { macvlanInfoData, macvlanModeOf } from './macvlan';
import { vlanIdOf, vlanInfoData } from './vlan';

/**
 * Golden bytes, captured with `strace -e trace=sendto,sendmsg -e write=all` in a throw-away
 * namespace whose kernel refused the kinds (the message is sent all the same): payloads after the
 * 16-byte nlmsghdr from iproute2 (`ip link add ...`, master m0 = #3), and the IFLA_LINKINFO of the
 * reference plugins (/usr/lib/cni/ipvlan, vlan and macvlan 1.1.1, vishvananda/netlink; the rest of
 * their message differs: a random temporary name, IFLA_TXQLEN 0 and IFLA_NET_NS_FD).
 */
const GOLDEN = {
  /** ip link add link m0 name iv0 type ipvlan mode l3 */
  ipIpvlanL3: '00000000000000000000000000000000' + '08000500030000000800030069763000' + '240012000a0001006970766c616e0000' + '1400020006000100010000000600020000000000',
  /** ip link add link m0 name v0 type vlan id 100 */
  ipVlan100: '00000000000000000000000000000000' + '0800050003000000070003007630000018001200' + '08000100766c616e0c0002000600010064000000',
  /** ip link add d0 type dummy */
  ipDummy: '00000000000000000000000000000000' + '07000300643000001000120009000100' + '64756d6d79000000',
  /** reference ipvlan's IFLA_LINKINFO content (after its 4-byte header), modes l2, l3, l3s */
  referenceIpvlan: {
    l2: '0a0001006970766c616e00001400020006000100000000000600020000000000',
    l3: '0a0001006970766c616e00001400020006000100010000000600020000000000',
    l3s: '0a0001006970766c616e00001400020006000100020000000600020000000000',
  } as Record<IpvlanMode, string>,
  /** reference vlan's IFLA_LINKINFO content, vlanId 100 and 0 */
  referenceVlan100: '08000100766c616e0c0002000600010064000000',
  referenceVlan0: '08000100766c616e0c0002000600010000000000',
  /** reference macvlan's IFLA_LINKINFO content, mode private */
  referenceMacvlanPrivate: '0b0001006d6163766c616e000c0002000800010001000000',
};
const hex = (s: string) => s.replace(/ /g, '');

const message = (spec: NewLinkSpec) => toBuffer((out) => formatLinkMessage({ kind: 'link', data: {}, attrs: newLinkAttrs(spec) }, out)).toString('hex');

describe('link creation messages', () => {
  it('creates an ipvlan, a vlan and a dummy exactly as iproute2 does', () => {
    expect(message({ name: 'iv0', kind: 'ipvlan', parentIndex: 3, infoData: ipvlanInfoData('l3') })).toBe(hex(GOLDEN.ipIpvlanL3));
    expect(message({ name: 'v0', kind: 'vlan', parentIndex: 3, infoData: vlanInfoData(100) })).toBe(hex(GOLDEN.ipVlan100));
    expect(message({ name: 'd0', kind: 'dummy' })).toBe(hex(GOLDEN.ipDummy));
  });

  it('encodes the ipvlan modes and vlan ids as the reference does', () => {
    for (const mode of Object.keys(IPVLAN_MODES) as IpvlanMode[]) {
      expect(linkInfo('ipvlan', { data: ipvlanInfoData(mode) }).toString('hex')).toBe(hex(GOLDEN.referenceIpvlan[mode]));
    }
    expect(linkInfo('vlan', { data: vlanInfoData(100) }).toString('hex')).toBe(GOLDEN.referenceVlan100);
    expect(linkInfo('vlan', { data: vlanInfoData(0) }).toString('hex')).toBe(GOLDEN.referenceVlan0);
    expect(linkInfo('macvlan', { data: macvlanInfoData('private') }).toString('hex')).toBe(GOLDEN.referenceMacvlanPrivate);
  });

  it("appends a macvlan's broadcast queue length when set (iproute2 sends the same two attributes, the other way round)", () => {
    expect(macvlanInfoData('bridge', 100).toString('hex')).toBe('0800010004000000' + '0800070064000000');
    expect(macvlanModeOf(macvlanInfoData('bridge', 100))).toBe('bridge');
  });

  it('reads the mode and the id back from IFLA_INFO_DATA', () => {
    for (const mode of Object.keys(IPVLAN_MODES) as IpvlanMode[]) expect(ipvlanModeOf(ipvlanInfoData(mode))).toBe(mode);
    expect(ipvlanModeOf(Buffer.from('0600010007000000', 'hex'))).toBeUndefined();
    expect(ipvlanModeOf(undefined)).toBeUndefined();
    expect(vlanIdOf(vlanInfoData(4094))).toBe(4094);
    expect(vlanIdOf(undefined)).toBeUndefined();
  });

  it('adds MTU, MAC and the target namespace when given, and never IFLA_TXQLEN', () => {
    const attrs = newLinkAttrs({ name: 'eth0', kind: 'vlan', parentIndex: 7, infoData: vlanInfoData(5), mtu: 1400, mac: '02:00:00:00:00:01', netnsFd: 9 });
    expect(attrs).toMatchObject({ ifname: 'eth0', mtu: 1400, netNsFd: 9, address: Buffer.from([2, 0, 0, 0, 0, 1]), link: Buffer.from([7, 0, 0, 0]) });
    expect(attrs.txqlen).toBeUndefined();
  });
});
