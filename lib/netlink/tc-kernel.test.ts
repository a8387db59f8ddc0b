import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsPool } from '../../test/helpers/netns';
import { requireRoot } from '../../test/helpers/root';
import { Errno } from '../errors';
import { createIfb, vethPeerOf } from './ifb';
import { linkByName } from './links';
import { openSocketIn } from './socket';
import {
  addHtbClass,
  addQdisc,
  addU32Filter,
  deleteQdisc,
  ETH_P_ALL,
  ETH_P_IP,
  listClasses,
  listU32Filters,
  qdiscAt,
  TC_ACT_STOLEN,
  TC_H_INGRESS,
  TC_H_ROOT,
  TCA_EGRESS_REDIR,
  tcHandle,
} from './tc';

const pool = netnsPool();
beforeAll(requireRoot);
afterAll(() => pool.destroyAll());

describe('traffic control through rtnetlink (privileged)', () => {
  it('adds, reads back and deletes qdiscs, HTB classes and u32 filters with mirred actions, as tc shows them', async () => {
    const ns = pool.make('tc');
    ns.exec('ip', ['link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
    const sock = openSocketIn(ns.path);
    try {
      const v0 = (await linkByName(sock, 'v0'))!;
      const v1 = (await linkByName(sock, 'v1'))!;
      expect(await vethPeerOf(sock, 'v0')).toEqual({ index: v0.index, kind: 'veth', peerIndex: v1.index });
      expect(await vethPeerOf(sock, 'lo')).toMatchObject({ peerIndex: undefined });
      expect(await vethPeerOf(sock, 'nope')).toBeUndefined();

      await createIfb(sock, 'ifb-t', 1400);
      const ifb = (await linkByName(sock, 'ifb-t'))!;
      expect(ifb).toMatchObject({ kind: 'ifb', up: true, mtu: 1400, txQLen: 0 });
      await expect(createIfb(sock, 'ifb-t', 1400)).rejects.toMatchObject({ errno: Errno.EEXIST });

      // tbf at 8 Mbit/s with a 10000-byte bucket, and a rate beyond 32 bits
      await addQdisc(sock, { ifindex: v0.index, handle: tcHandle(1, 0), parent: TC_H_ROOT, options: { kind: 'tbf', rate: 1_000_000, limit: 35_000, buffer: 156_250 } });
      expect(ns.exec('tc', ['qdisc', 'show', 'dev', 'v0'])).toContain('qdisc tbf 1: root refcnt 3 rate 8Mbit burst 10000b lat 25ms');
      expect(await qdiscAt(sock, v0.index, TC_H_ROOT)).toEqual({
        ifindex: v0.index,
        handle: tcHandle(1, 0),
        parent: TC_H_ROOT,
        kind: 'tbf',
        tbf: { rate: 1_000_000, limit: 35_000, buffer: 156_250 },
      });
      await expect(addQdisc(sock, { ifindex: v0.index, handle: tcHandle(1, 0), parent: TC_H_ROOT, options: { kind: 'ingress' } })).rejects.toMatchObject({ errno: Errno.EEXIST });
      await addQdisc(sock, { ifindex: ifb.index, handle: tcHandle(1, 0), parent: TC_H_ROOT, options: { kind: 'tbf', rate: 6_000_000_000, limit: 1_000_000, buffer: 1000 } });
      expect((await qdiscAt(sock, ifb.index, TC_H_ROOT))?.tbf?.rate).toBe(6_000_000_000);

      // the redirect of v0's ingress to the ifb
      await addQdisc(sock, { ifindex: v0.index, handle: tcHandle(0xffff, 0), parent: TC_H_INGRESS, options: { kind: 'ingress' } });
      const redirect = { kind: 'mirred' as const, verdict: TC_ACT_STOLEN, direction: TCA_EGRESS_REDIR, ifindex: ifb.index };
      await addU32Filter(sock, { ifindex: v0.index, parent: tcHandle(0xffff, 0), priority: 1, protocol: ETH_P_ALL, classid: tcHandle(1, 1), keys: [], actions: [redirect] });
      expect(ns.exec('tc', ['filter', 'show', 'dev', 'v0', 'ingress'])).toContain('mirred (Egress Redirect to device ifb-t) stolen');
      const filters = await listU32Filters(sock, v0.index, tcHandle(0xffff, 0));
      expect(filters.find((f) => f.keys)).toMatchObject({
        priority: 1,
        protocol: ETH_P_ALL,
        classid: tcHandle(1, 1),
        keys: [{ mask: 0, value: 0, offset: 0 }],
        actions: [redirect],
      });

      // an HTB with a class, a fifo leaf and a subnet filter on v1
      await addQdisc(sock, { ifindex: v1.index, handle: tcHandle(1, 0), parent: TC_H_ROOT, options: { kind: 'htb', defaultClass: 0x30, rate2quantum: 10 } });
      const cls = { ifindex: v1.index, classid: tcHandle(1, 0x30), parent: tcHandle(1, 0), rate: 125_000, ceil: 125_000, buffer: 156_250, cbuffer: 156_250, quantum: 12_500 };
      await addHtbClass(sock, cls);
      await addHtbClass(sock, { ...cls, classid: tcHandle(1, 1), rate: 12_500_000_000, ceil: 12_500_000_000, quantum: 200_000 });
      await addQdisc(sock, { ifindex: v1.index, handle: tcHandle(0x30, 0), parent: tcHandle(1, 0x30), options: { kind: 'bfifo', limit: 13_125 } });
      const subnet = { mask: 0xffffff00, value: 0x0a010200, offset: 16 };
      await addU32Filter(sock, { ifindex: v1.index, parent: tcHandle(1, 0), priority: 16, protocol: ETH_P_IP, classid: tcHandle(1, 1), keys: [subnet], actions: [] });
      expect(ns.exec('tc', ['class', 'show', 'dev', 'v1'])).toContain('class htb 1:30 root leaf 30: prio 0 rate 1Mbit ceil 1Mbit burst 1250b cburst 1250b');
      expect(ns.exec('tc', ['filter', 'show', 'dev', 'v1'])).toContain('match 0a010200/ffffff00 at 16');
      expect((await qdiscAt(sock, v1.index, TC_H_ROOT))?.htb).toEqual({ defaultClass: 0x30, rate2quantum: 10 });
      expect(await qdiscAt(sock, v1.index, tcHandle(1, 0x30))).toMatchObject({ kind: 'bfifo', fifo: { limit: 13_125 } });
      const classes = await listClasses(sock, v1.index);
      expect(classes.find((c) => c.classid === tcHandle(1, 0x30))?.htb).toEqual({ rate: 125_000, ceil: 125_000, buffer: 156_250, cbuffer: 156_250, quantum: 12_500 });
      expect(classes.find((c) => c.classid === tcHandle(1, 1))?.htb).toMatchObject({ rate: 12_500_000_000, ceil: 12_500_000_000 });
      expect((await listU32Filters(sock, v1.index, tcHandle(1, 0))).find((f) => f.keys)).toMatchObject({
        priority: 16,
        protocol: ETH_P_IP,
        classid: tcHandle(1, 1),
        keys: [subnet],
      });

      expect((await qdiscAt(sock, v0.index, TC_H_INGRESS))?.kind).toBe('ingress');
      await deleteQdisc(sock, { ifindex: v0.index, handle: tcHandle(0xffff, 0), parent: TC_H_INGRESS });
      await deleteQdisc(sock, { ifindex: v0.index, handle: tcHandle(1, 0), parent: TC_H_ROOT });
      expect((await qdiscAt(sock, v0.index, TC_H_ROOT))?.handle ?? 0).toBe(0); // the kernel's default, reported or not
      expect(await qdiscAt(sock, v0.index, TC_H_INGRESS)).toBeUndefined();
    } finally {
      sock.socket.close();
    }
  });
});
