import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsPool } from '../../test/helpers/netns';
import { requireRoot } from '../../test/helpers/root';
import { closeSync, openSync } from 'node:fs';
import { Errno } from '../errors';
import { parseIP, parsePrefix } from '../ip';
import {
  addAddress,
  addRoute,
  createBridge,
  createVethPair,
  deleteLink,
  formatAddress,
  linkByName,
  listAddresses,
  listLinks,
  listRoutes,
  openSocketIn,
  setLinkUp,
  setMaster,
} from './index';

const pool = netnsPool();
beforeAll(requireRoot);
afterAll(() => pool.destroyAll());

describe('netlink wrapper (privileged)', () => {
  it('a socket opened in a namespace keeps acting there after withNetns returned', async () => {
    const ns = pool.make('nl');
    const sock = openSocketIn(ns.path);
    try {
      // a fresh namespace has exactly one link: its own lo
      const links = await listLinks(sock);
      expect(links.map((l) => l.name)).toEqual(['lo']);
      const lo = (await linkByName(sock, 'lo'))!;
      expect(lo.up).toBe(false);
      await setLinkUp(sock, lo, true);
      expect((await linkByName(sock, 'lo'))!.up).toBe(true);
      expect(ns.ipJson<Array<{ flags: string[] }>>('link', 'show', 'lo')[0].flags).toContain('UP');
      expect((await listAddresses(sock, lo.index)).map(formatAddress).sort()).toEqual(['127.0.0.1/8', '::1/128']);
      expect(await linkByName(sock, 'nope0')).toBeUndefined();
    } finally {
      sock.socket.close();
    }
  });
});

describe('links, addresses and routes (privileged)', () => {
  it('builds a bridge, a veth pair across namespaces, addresses and a default route that carry a ping', async () => {
    const host = pool.make('nlh');
    const ctr = pool.make('nlc');
    const hostSock = openSocketIn(host.path);
    const ctrSock = openSocketIn(ctr.path);
    const fd = openSync(ctr.path, 'r');
    try {
      await createBridge(hostSock, 'br-test', 1400);
      await expect(createBridge(hostSock, 'br-test')).rejects.toMatchObject({ errno: Errno.EEXIST });
      const br = (await linkByName(hostSock, 'br-test'))!;
      expect(br.kind).toBe('bridge');
      await createVethPair(hostSock, { hostName: 'veth-t1', peerName: 'eth0', peerNetnsFd: fd, mtu: 1400, peerMac: '02:42:ac:11:00:02' });
      const hostVeth = (await linkByName(hostSock, 'veth-t1'))!;
      expect(hostVeth.kind).toBe('veth');
      expect(await linkByName(hostSock, 'eth0')).toBeUndefined();
      const eth0 = (await linkByName(ctrSock, 'eth0'))!;
      expect(eth0).toMatchObject({ kind: 'veth', mtu: 1400, mac: '02:42:ac:11:00:02' });
      await setMaster(hostSock, hostVeth, br.index);
      expect((await linkByName(hostSock, 'veth-t1'))!.masterIndex).toBe(br.index);
      for (const [sock, link] of [
        [hostSock, hostVeth],
        [hostSock, br],
        [ctrSock, eth0],
      ] as const)
        await setLinkUp(sock, link, true);
      await addAddress(hostSock, br.index, parseIP('10.66.0.1')!, 24);
      await addAddress(ctrSock, eth0.index, parseIP('10.66.0.2')!, 24);
      await addAddress(ctrSock, eth0.index, parseIP('fd66::2')!, 64, true);
      await addRoute(ctrSock, { dst: parsePrefix('0.0.0.0/0')!, gw: parseIP('10.66.0.1'), linkIndex: eth0.index });
      const routes = await listRoutes(ctrSock, 4);
      expect(routes.find((r) => r.dst.length === 0)?.gw).toEqual(parseIP('10.66.0.1'));
      expect((await listAddresses(ctrSock, eth0.index)).map(formatAddress)).toEqual(expect.arrayContaining(['10.66.0.2/24', 'fd66::2/64']));
      expect(ctr.exec('ping', ['-c1', '-W2', '10.66.0.1'])).toContain('1 received');
      await deleteLink(hostSock, hostVeth.index);
      expect(await linkByName(ctrSock, 'eth0')).toBeUndefined();
      await deleteLink(hostSock, hostVeth.index); // already gone: not an error
    } finally {
      closeSync(fd);
      hostSock.socket.close();
      ctrSock.socket.close();
    }
  });
});
