import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsPool } from '../../test/helpers/netns';
import { requireRoot } from '../../test/helpers/root';
import { withNetns } from '../netns';
import { BROADCAST_MAC, ETH_P_IP, openPacketSocket, type PacketSocket, udpDestinationPortFilter } from './packet';

const pool = netnsPool();
beforeAll(requireRoot);
afterAll(() => pool.destroyAll());

/** A bare IPv4 datagram (no checksums: a packet socket sees it before the IP layer would check). */
function ipv4(protocol: number, destinationPort: number, fragment = 0): Buffer {
  const packet = Buffer.alloc(20 + 8 + 4);
  packet[0] = 0x45;
  packet.writeUInt16BE(packet.length, 2);
  packet.writeUInt16BE(fragment, 6);
  packet[8] = 64;
  packet[9] = protocol;
  packet.set([10, 0, 0, 1], 12);
  packet.set([255, 255, 255, 255], 16);
  packet.writeUInt16BE(67, 20);
  packet.writeUInt16BE(destinationPort, 22);
  packet.writeUInt16BE(12, 24);
  packet.write('ping', 28);
  return packet;
}

async function received(socket: PacketSocket, ms = 300): Promise<Buffer[]> {
  await new Promise((r) => setTimeout(r, ms));
  return socket.receive().map((p) => p.data);
}

describe('AF_PACKET sockets (privileged)', () => {
  it('created in a namespace, bound to an interface without an address: sends broadcast frames and receives only what the filter accepts, not its own', async () => {
    const [a, b] = [pool.make('pka'), pool.make('pkb')];
    execFileSync('ip', ['-n', a.name, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b.name]);
    execFileSync('ip', ['-n', a.name, 'link', 'set', 'va', 'up']);
    execFileSync('ip', ['-n', b.name, 'link', 'set', 'vb', 'up']);
    const index = (ns: typeof a, name: string) => ns.ipJson<Array<{ ifindex: number; address: string }>>('link', 'show', name)[0];
    const [va, vb] = [index(a, 'va'), index(b, 'vb')];

    const sender = withNetns(a.path, () => openPacketSocket(va.ifindex, ETH_P_IP, udpDestinationPortFilter(9)));
    const listener = withNetns(b.path, () => openPacketSocket(vb.ifindex, ETH_P_IP, udpDestinationPortFilter(68)));
    try {
      expect(await received(listener, 0)).toEqual([]);
      sender.send(ipv4(17, 68), BROADCAST_MAC);
      sender.send(ipv4(17, 69), BROADCAST_MAC); // another port
      sender.send(ipv4(6, 68), BROADCAST_MAC); // TCP
      sender.send(ipv4(17, 68, 0x2001), BROADCAST_MAC); // a later fragment: its first bytes are no UDP header
      const got = await received(listener);
      expect(got).toEqual([ipv4(17, 68)]);
      // the sender's own frame is no reception, even when its filter would take it
      listener.send(ipv4(17, 9), BROADCAST_MAC);
      expect(await received(listener)).toEqual([]);
      const back = (await new Promise<ReturnType<PacketSocket['receive']>>((r) => setTimeout(() => r(sender.receive()), 300)))[0];
      expect(back.data).toEqual(ipv4(17, 9));
      expect(back.sourceMac.toString('hex')).toBe(vb.address.replaceAll(':', ''));
    } finally {
      sender.close();
      listener.close();
    }
    // closing twice is harmless; a closed socket receives nothing
    listener.close();
    expect(listener.receive()).toEqual([]);
  });

  it('refuses an interface that does not exist (ENODEV) with the syscall named', () => {
    const ns = pool.make('pkc');
    expect(() => withNetns(ns.path, () => openPacketSocket(4242, ETH_P_IP, udpDestinationPortFilter(68)))).toThrow(/bind\(AF_PACKET\) "ifindex 4242": ENODEV/);
  });
});
