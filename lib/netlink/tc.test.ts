import { describe, expect, it } from 'vitest';
import { ifbMessage } from './ifb';
import {
  ETH_P_ALL,
  ETH_P_IP,
  formatTcHandle,
  htbClassMessage,
  qdiscMessage,
  TC_ACT_OK,
  TC_ACT_STOLEN,
  TC_H_INGRESS,
  TC_H_ROOT,
  TCA_EGRESS_REDIR,
  tcHandle,
  u32FilterMessage,
} from './tc';

/**
 * Golden bytes: the payloads (after the 16-byte nlmsghdr) that the reference bandwidth plugin
 * (/usr/lib/cni/bandwidth, vishvananda/netlink) sent for ingressRate 8 Mbit/s burst 80000 bits
 * and egressRate 4 Mbit/s burst 40000 bits, host veth #2, ifb #3, captured with
 * `strace -e trace=sendto -e write=all`.
 */
const REFERENCE = {
  tbfOnVeth: '000000000200000000000100ffffffff0000000008000100746266002c00020028000100000000000000000040420f00000000000000000000000000b88800005a62020000000000',
  ingress: '00000000020000000000fffff1ffffff000000000c000100696e67726573730004000200',
  redirect:
    '0000000002000000000000000000ffff0003010008000100753332009c00020024000500010001000000000000000000000000000000000000000000000000000000000008000100010001006c000700340001000b0001006d69727265640000240002002000020000000000000000000400000000000000000000000100000003000000340002000b0001006d69727265640000240002002000020000000000000000000000000000000000000000000100000003000000',
  tbfOnIfb: '000000000300000000000100ffffffff0000000008000100746266002c00020028000100000000000000000020a107000000000000000000000000005c4400005a62020000000000',
  ifb: '00000000000000000100000001000000140003006277703531343530303765326138340008000400dc05000008000d00000000000c0012000700010069666200',
};

describe('tc message encodings', () => {
  it('a root tbf qdisc: tcmsg, kind, TCA_TBF_PARMS exactly as the reference sends them', () => {
    const veth = qdiscMessage({ ifindex: 2, handle: tcHandle(1, 0), parent: TC_H_ROOT, options: { kind: 'tbf', rate: 1_000_000, limit: 35_000, buffer: 156_250 } });
    expect(veth.toString('hex')).toBe(REFERENCE.tbfOnVeth);
    const ifb = qdiscMessage({ ifindex: 3, handle: tcHandle(1, 0), parent: TC_H_ROOT, options: { kind: 'tbf', rate: 500_000, limit: 17_500, buffer: 156_250 } });
    expect(ifb.toString('hex')).toBe(REFERENCE.tbfOnIfb);
  });

  it('a tbf faster than 2^32-1 bytes/s saturates the 32-bit rate and adds TCA_TBF_RATE64', () => {
    const msg = qdiscMessage({ ifindex: 2, handle: tcHandle(1, 0), parent: TC_H_ROOT, options: { kind: 'tbf', rate: 5_000_000_000, limit: 1, buffer: 1 } });
    const options = msg.subarray(28);
    expect(options.readUInt16LE(0)).toBe(4 + 40 + 12); // TCA_OPTIONS: PARMS (4+36) and RATE64 (4+8)
    expect(options.readUInt32LE(4 + 4 + 8)).toBe(0xffffffff);
    expect(options.subarray(44, 48).toString('hex')).toBe('0c000400');
    expect(options.readBigUInt64LE(48)).toBe(5_000_000_000n);
  });

  it('the ingress qdisc ffff: under ffff:fff1 with empty options', () => {
    expect(qdiscMessage({ ifindex: 2, handle: tcHandle(0xffff, 0), parent: TC_H_INGRESS, options: { kind: 'ingress' } }).toString('hex')).toBe(REFERENCE.ingress);
  });

  it('the u32 match-all filter with flowid 1:1 and the two mirred redirects the reference installs', () => {
    const msg = u32FilterMessage({
      ifindex: 2,
      parent: tcHandle(0xffff, 0),
      priority: 1,
      protocol: ETH_P_ALL,
      classid: tcHandle(1, 1),
      keys: [],
      actions: [
        { kind: 'mirred', verdict: TC_ACT_STOLEN, direction: TCA_EGRESS_REDIR, ifindex: 3 },
        { kind: 'mirred', verdict: TC_ACT_OK, direction: TCA_EGRESS_REDIR, ifindex: 3 },
      ],
    });
    expect(msg.toString('hex')).toBe(REFERENCE.redirect);
  });

  it('u32 keys: mask and value in network order, offset in host order, protocol in network order in tcm_info', () => {
    const msg = u32FilterMessage({
      ifindex: 7,
      parent: tcHandle(1, 0),
      priority: 16,
      protocol: ETH_P_IP,
      classid: tcHandle(1, 1),
      keys: [{ mask: 0xffffff00, value: 0x0a010200, offset: 12 }],
      actions: [],
    });
    expect(msg.readUInt32LE(16)).toBe(0x00100008); // prio 16, htons(0x0800)
    const sel = msg.subarray(28 + 4 + 4); // TCA_KIND "u32" (8 bytes) ends at 28; TCA_OPTIONS header; TCA_U32_SEL header
    expect(sel.subarray(0, 4).toString('hex')).toBe('01000100'); // TERMINAL, nkeys 1
    expect(sel.subarray(16, 32).toString('hex')).toBe('ffffff00' + '0a010200' + '0c000000' + '00000000');
  });

  it('an HTB class: tc_htb_opt with rate, ceil, buffers and quantum, and 64-bit rates beyond 2^32-1 bytes/s', () => {
    const small = htbClassMessage({ ifindex: 4, classid: tcHandle(1, 0x30), parent: tcHandle(1, 0), rate: 125_000, ceil: 125_000, buffer: 1000, cbuffer: 1000, quantum: 12_500 });
    expect(small.readUInt32LE(8)).toBe(0x00010030);
    expect(small.readUInt32LE(12)).toBe(0x00010000);
    const parms = small.subarray(28 + 4 + 4);
    expect(small.readUInt16LE(28)).toBe(4 + 4 + 44);
    expect([parms.readUInt32LE(8), parms.readUInt32LE(20), parms.readUInt32LE(24), parms.readUInt32LE(28), parms.readUInt32LE(32)]).toEqual([125_000, 125_000, 1000, 1000, 12_500]);
    const big = htbClassMessage({
      ifindex: 4,
      classid: tcHandle(1, 1),
      parent: tcHandle(1, 0),
      rate: 12_500_000_000,
      ceil: 12_500_000_000,
      buffer: 1,
      cbuffer: 1,
      quantum: 200_000,
    });
    const opts = big.subarray(28 + 4);
    expect(opts.subarray(48, 52).toString('hex')).toBe('0c000600'); // TCA_HTB_RATE64
    expect(opts.readBigUInt64LE(52)).toBe(12_500_000_000n);
    expect(opts.subarray(60, 64).toString('hex')).toBe('0c000700'); // TCA_HTB_CEIL64
  });

  it('an HTB root qdisc: tc_htb_glob version 3, r2q, default class', () => {
    const msg = qdiscMessage({ ifindex: 4, handle: tcHandle(1, 0), parent: TC_H_ROOT, options: { kind: 'htb', defaultClass: 0x30, rate2quantum: 10 } });
    expect(msg.subarray(20).toString('hex')).toBe('0800010068746200' + '1c000200' + '18000200' + '03000000' + '0a000000' + '30000000' + '00000000' + '00000000');
  });

  it('handles print as tc prints them', () => {
    expect([tcHandle(1, 0), tcHandle(0xffff, 0), tcHandle(1, 0x30), TC_H_INGRESS].map(formatTcHandle)).toEqual(['1:', 'ffff:', '1:30', 'ffff:fff1']);
  });
});

describe('ifb link message', () => {
  it('matches the reference: up, name, MTU, txqueuelen 0, kind ifb (ours NUL-terminates the kind, which the kernel accepts either way)', () => {
    const ours = ifbMessage('bwp5145007e2a84', 1500).toString('hex');
    // the reference writes IFLA_INFO_KIND as 3 bytes plus padding (length 7); ours as "ifb\0" (length 8)
    expect(ours).toBe(REFERENCE.ifb.replace('0c0012000700010069666200', '0c0012000800010069666200'));
  });
});
