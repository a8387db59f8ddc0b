import { describe, expect, it } from 'vitest';
import { parsePrefix } from '../../lib/ip';
import { ETH_P_IP, ETH_P_IPV6, TC_H_ROOT, tcHandle } from '../../lib/netlink/tc';
import { goUint32, ifbName, redirectFilter, shaper, subnetFilter, tbfParameters } from './shaping';

const TICKS = 15.625; // 1000/64, /proc/net/psched on current kernels

describe('tbf parameters, as the reference computes them', () => {
  it('rate and burst in bytes, buffer in ticks, limit = 25 ms at the rate + the burst', () => {
    // the values the reference sent in lib/netlink/tc.test.ts's golden bytes
    expect(tbfParameters({ rate: 8_000_000, burst: 80_000 }, TICKS)).toEqual({ rate: 1_000_000, limit: 35_000, buffer: 156_250 });
    expect(tbfParameters({ rate: 4_000_000, burst: 40_000 }, TICKS)).toEqual({ rate: 500_000, limit: 17_500, buffer: 156_250 });
    // bits are floored to bytes
    expect(tbfParameters({ rate: 8_000_007, burst: 80_007 }, TICKS)).toEqual({ rate: 1_000_000, limit: 35_000, buffer: 156_250 });
  });

  it("keeps the reference's 32-bit wrap-arounds for huge bursts (captured from /usr/lib/cni/bandwidth: 1 Mbit/s, CRI-O's 4 GiB burst)", () => {
    expect(tbfParameters({ rate: 1_000_000, burst: 34_359_738_352 }, TICKS)).toEqual({ rate: 0x1e848, limit: 0xc33, buffer: 0x9fffff06 });
  });

  it('goUint32 truncates, keeps the low 32 bits, and gives 0 out of int64 range', () => {
    expect([goUint32(1.9), goUint32(2 ** 32 + 5), goUint32(2 ** 64), goUint32(Number.POSITIVE_INFINITY)]).toEqual([1, 5, 0, 0]);
  });
});

describe('ifb names', () => {
  it('"bwp" and the SHA-512 of network name + container id, 15 characters (the reference named this one in a side-by-side run)', () => {
    expect(ifbName('mynet', 'ctr1')).toBe('bwp5145007e2a84');
    expect(ifbName('mynet', 'ctr2')).not.toBe('bwp5145007e2a84');
  });
});

describe('shapers', () => {
  it('without subnets: one root tbf 1:', () => {
    expect(shaper(5, { rate: 8_000_000, burst: 80_000 }, TICKS, undefined, 'src')).toEqual({
      qdiscs: [{ ifindex: 5, handle: tcHandle(1, 0), parent: TC_H_ROOT, options: { kind: 'tbf', rate: 1_000_000, limit: 35_000, buffer: 156_250 } }],
      classes: [],
      filters: [],
    });
  });

  it('unshapedSubnets: HTB defaulting to the shaped class 1:30, the subnets sent to the 100 Gbit/s class 1:1, fifo leaves', () => {
    const s = shaper(5, { rate: 8_000_000, burst: 80_000 }, TICKS, { mode: 'unshaped', subnets: [parsePrefix('10.9.0.0/16')!] }, 'dst');
    expect(s.qdiscs.map((q) => [q.handle, q.parent, q.options])).toEqual([
      [tcHandle(1, 0), TC_H_ROOT, { kind: 'htb', defaultClass: 0x30, rate2quantum: 10 }],
      [tcHandle(0x30, 0), tcHandle(1, 0x30), { kind: 'bfifo', limit: 35_000 }],
      [tcHandle(2, 0), tcHandle(1, 1), { kind: 'pfifo', limit: 1000 }],
    ]);
    expect(s.classes.map((c) => [c.classid, c.rate, c.ceil, c.buffer, c.quantum])).toEqual([
      [tcHandle(1, 0x30), 1_000_000, 1_000_000, 156_250, 100_000],
      [tcHandle(1, 1), 12_500_000_000, 12_500_000_000, 15_625, 200_000],
    ]);
    expect(s.filters).toEqual([subnetFilter(5, parsePrefix('10.9.0.0/16')!, 'dst', tcHandle(1, 1))]);
  });

  it('shapedSubnets: HTB defaulting to the unshaped class, the subnets sent to the shaped one', () => {
    const s = shaper(5, { rate: 8_000_000, burst: 80_000 }, TICKS, { mode: 'shaped', subnets: [parsePrefix('10.9.0.0/16')!] }, 'src');
    expect(s.qdiscs[0].options).toMatchObject({ kind: 'htb', defaultClass: 1 });
    expect(s.filters[0].classid).toBe(tcHandle(1, 0x30));
  });

  it('subnet filters match the far end: IPv4 source at 12 / destination at 16 (prio 16), IPv6 at 8 / 24 (prio 15), one key per non-wildcard word', () => {
    expect(subnetFilter(3, parsePrefix('10.9.0.0/16')!, 'src', 7)).toMatchObject({ priority: 16, protocol: ETH_P_IP, keys: [{ mask: 0xffff0000, value: 0x0a090000, offset: 12 }] });
    expect(subnetFilter(3, parsePrefix('10.9.0.0/16')!, 'dst', 7).keys[0].offset).toBe(16);
    expect(subnetFilter(3, parsePrefix('fd00:1:2:3::/72')!, 'dst', 7)).toMatchObject({
      priority: 15,
      protocol: ETH_P_IPV6,
      keys: [
        { mask: 0xffffffff, value: 0xfd000001, offset: 24 },
        { mask: 0xffffffff, value: 0x00020003, offset: 28 },
        { mask: 0xff000000, value: 0, offset: 32 },
      ],
    });
    expect(subnetFilter(3, parsePrefix('fd00::/64')!, 'src', 7).keys.map((k) => k.offset)).toEqual([8, 12]);
    expect(subnetFilter(3, parsePrefix('0.0.0.0/0')!, 'src', 7).keys).toEqual([]);
  });

  it('the redirect of the host veth ingress to the ifb: match-all u32, flowid 1:1, the two mirred actions of the reference', () => {
    const f = redirectFilter(2, 3);
    expect(f).toMatchObject({ parent: tcHandle(0xffff, 0), priority: 1, protocol: 3, classid: tcHandle(1, 1), keys: [] });
    expect(f.actions.map((a) => [a.verdict, a.ifindex])).toEqual([
      [4, 3],
      [0, 3],
    ]);
  });
});
