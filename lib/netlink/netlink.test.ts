import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsPool } from '../../test/helpers/netns';
import { requireRoot } from '../../test/helpers/root';
import { formatAddress, linkByName, listAddresses, listLinks, openSocketIn, setLinkUp } from './index';

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
