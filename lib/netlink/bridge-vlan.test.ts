import { describe, expect, it } from 'vitest';
import { hairpinMessage, isolatedMessage } from './bridge-port';
import { bridgeVlanMessage, portVlansDumpMessage, portVlansOf, vlanFilteringBridgeMessage } from './bridge-vlan';

/**
 * Golden bytes: payloads after the 16-byte nlmsghdr, captured with `strace -e trace=sendto,sendmsg
 * -e write=all` from the reference bridge plugin (/usr/lib/cni/bridge 1.1.1, vishvananda/netlink)
 * with `"vlan": 100` (host veth #4, on an existing bridge; its attempt to create the bridge, which this
 * kernel refused, gave the bridge message)
 * and from iproute2's `bridge` (port #6). vishvananda's LinkSetIsolated (current reference) sends
 * what `bridge link set ... isolated on` sends: IFLA_PROTINFO | NLA_F_NESTED around the u8.
 */
const GOLDEN = {
  /** reference: BridgeVlanAdd(hostVeth, 100, pvid=true, untagged=true, self=false, master=true) */
  referenceVlan100: '0700000004000000000000000000000014001a0006000000010000000800020006006400',
  /** reference: LinkSetHairpin(hostVeth, false) */
  referenceHairpinOff: '070000000400000000000000000000000c000c800500040000000000',
  /** reference: LinkAdd(&Bridge{Name: "vlbr0", VlanFiltering: &true}) */
  referenceBridge: '000000000000000000000000000000000a000300766c6272300000001c0012000a00010062726964676500000c0002000500070001000000',
  /** the same with "mtu": 1400 and "bridge": "vlbr1" */
  referenceBridgeMtu: '000000000000000000000000000000000a000300766c62723100000008000400780500001c0012000a00010062726964676500000c0002000500070001000000',
  /** bridge link set dev vp0 isolated on */
  isolatedOn: '070000000600000000000000000000000c000c800500210001000000',
  /** bridge vlan del dev vp0 vid 1 master */
  deleteVlan1: '0700000006000000000000000000000014001a0006000000010000000800020000000100',
  /** bridge vlan add dev vp0 vid 200 master (a trunk VLAN: tagged, not PVID) */
  addTagged200: '0700000006000000000000000000000014001a000600000001000000080002000000c800',
  /** bridge -j vlan show: the dump request (AF_BRIDGE, IFLA_EXT_MASK = RTEXT_FILTER_BRVLAN) */
  dump: '0700000000000000000000000000000008001d0002000000',
};

describe('bridge VLAN and port messages', () => {
  it('adds a PVID untagged VLAN exactly as the reference', () => {
    expect(bridgeVlanMessage(4, { vid: 100, pvid: true, untagged: true }).toString('hex')).toBe(GOLDEN.referenceVlan100);
  });

  it('adds a tagged VLAN and deletes one as iproute2 does (flags 0, BRIDGE_FLAGS_MASTER)', () => {
    expect(bridgeVlanMessage(6, { vid: 200, pvid: false, untagged: false }).toString('hex')).toBe(GOLDEN.addTagged200);
    expect(bridgeVlanMessage(6, { vid: 1, pvid: false, untagged: false }).toString('hex')).toBe(GOLDEN.deleteVlan1);
  });

  it('sets isolation and hairpin in a nested IFLA_PROTINFO', () => {
    expect(isolatedMessage(6, true).toString('hex')).toBe(GOLDEN.isolatedOn);
    expect(hairpinMessage(4, false).toString('hex')).toBe(GOLDEN.referenceHairpinOff);
  });

  it('creates a bridge with VLAN filtering exactly as the reference', () => {
    expect(vlanFilteringBridgeMessage('vlbr0').toString('hex')).toBe(GOLDEN.referenceBridge);
    expect(vlanFilteringBridgeMessage('vlbr1', 1400).toString('hex')).toBe(GOLDEN.referenceBridgeMtu);
  });

  it('asks for the ports VLANs as bridge vlan show does', () => {
    expect(portVlansDumpMessage().toString('hex')).toBe(GOLDEN.dump);
  });

  it('reads a port VLAN list, ranges expanded, other attributes skipped', () => {
    const vlanInfo = (flags: number, vid: number) => {
      const b = Buffer.alloc(8);
      b.writeUInt16LE(8, 0);
      b.writeUInt16LE(2, 2);
      b.writeUInt16LE(flags, 4);
      b.writeUInt16LE(vid, 6);
      return b;
    };
    const nested = Buffer.concat([vlanInfo(6, 100), vlanInfo(0, 200), vlanInfo(8, 300), vlanInfo(16, 302), vlanInfo(4, 400)]);
    const afSpec = Buffer.concat([Buffer.from([4 + nested.length, 0, 26, 0]), nested]);
    const master = Buffer.from('08000a00' + '03000000', 'hex'); // IFLA_MASTER 3, before it
    const header = Buffer.alloc(16);
    header.writeUInt8(7, 0);
    header.writeInt32LE(9, 4);
    const { index, vlans } = portVlansOf(Buffer.concat([header, master, afSpec]));
    expect(index).toBe(9);
    expect(vlans).toEqual([
      { vid: 100, pvid: true, untagged: true },
      { vid: 200, pvid: false, untagged: false },
      { vid: 300, pvid: false, untagged: false },
      { vid: 301, pvid: false, untagged: false },
      { vid: 302, pvid: false, untagged: false },
      { vid: 400, pvid: false, untagged: true },
    ]);
  });
});
