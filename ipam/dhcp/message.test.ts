import { describe, expect, it } from 'vitest';
import { discoverMessage, releaseMessage, renewingMessage, selectingMessage } from './client';
import { decodeUdp, encodeUdp } from './frame';
import { Option, classlessRoutes, decodeMessage, domainSearch, encodeMessage, formatIPv4, maskLength, messageType, MessageType, parseIPv4, staticRoutes } from './message';
import { leaseResult } from './result';

const mac = Buffer.from('020000000001', 'hex');
const identity = { clientId: 'ctr1/net1/eth0', provide: new Map<number, Buffer>(), request: [3, 1, 6, 15, 119, 121] };
const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
};
const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/**
 * A DHCPACK as dnsmasq 2.90 sent it to our client (captured from the daemon's lease file), for
 * --dhcp-range=10.77.0.50,10.77.0.99,255.255.255.0,2m, router 10.77.0.1, dns-server 10.77.0.53 and
 * .54, T1 10 s, domain-name lan.example, domain-search example.com,corp.example.com (compressed)
 * and option 121 10.99.0.0/16 via 10.77.0.254 and 0.0.0.0/0 via 10.77.0.1.
 */
const DNSMASQ_ACK = Buffer.from(
  'AgEGALJQfrQAAIAAAAAAAApNAFEKTQABAAAAAMJywFuDPQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABjglNjNQEFNgQKTQABMwQAAAB4OgQAAAAKOwQAAABpAQT///8AHAQKTQD/eQwQCmMKTQD+AApNAAF3FAdleGFtcGxlA2NvbQAEY29ycMAADwtsYW4uZXhhbXBsZQYICk0ANQpNADYDBApNAAH/',
  'base64',
);

describe('DHCP messages', () => {
  it('encodes a DISCOVER byte for byte: broadcast flag, type first, client id, max size, request list, END, padded to 300', () => {
    const bytes = encodeMessage(discoverMessage(identity, mac, 0x12345678));
    expect(bytes.length).toBe(300);
    expect(bytes.subarray(0, 44)).toEqual(hex(`01 01 06 00  12345678  0000 8000  00000000 00000000 00000000 00000000  020000000001 00000000000000000000`));
    // sname and file are zero
    expect(bytes.subarray(44, 236).every((b) => b === 0)).toBe(true);
    expect(bytes.subarray(236, 273)).toEqual(hex(`63825363  350101  3d0f00 ${Buffer.from('ctr1/net1/eth0').toString('hex')}  390205dc  37060301060f7779  ff`));
    expect(bytes.subarray(273).every((b) => b === 0)).toBe(true);
  });

  it('asks for a previous address (50) in a DISCOVER when given one; sends provided options, a provided client id replacing ours', () => {
    const provide = new Map([
      [12, Buffer.from('web-1')],
      [61, Buffer.from('\u0001xyz')],
    ]);
    const msg = decodeMessage(encodeMessage(discoverMessage({ ...identity, provide }, mac, 1, 0, parseIPv4('10.77.0.81'))))!;
    expect([...msg.options.keys()]).toEqual([53, 61, 50, 57, 55, 12]);
    expect(formatIPv4(msg.options.get(50)!)).toBe('10.77.0.81');
    expect(msg.options.get(61)).toEqual(Buffer.from('\u0001xyz'));
    expect(msg.options.get(12)!.toString()).toBe('web-1');
    // no request list at all when it is empty (request: [{skipDefault: true}])
    expect(decodeMessage(encodeMessage(discoverMessage({ ...identity, request: [] }, mac, 1)))!.options.has(55)).toBe(false);
  });

  it('builds the REQUESTs of each state and the RELEASE as RFC 2131 table 5 says', () => {
    const offered = parseIPv4('10.77.0.81')!;
    const server = parseIPv4('10.77.0.1')!;
    const selecting = decodeMessage(encodeMessage(selectingMessage(identity, mac, 7, 3, offered, server)))!;
    expect([messageType(selecting), selecting.xid, selecting.secs, selecting.flags, formatIPv4(selecting.ciaddr)]).toEqual([MessageType.REQUEST, 7, 3, 0x8000, '0.0.0.0']);
    expect([formatIPv4(selecting.options.get(50)!), formatIPv4(selecting.options.get(54)!)]).toEqual(['10.77.0.81', '10.77.0.1']);

    const renewing = decodeMessage(encodeMessage(renewingMessage(identity, mac, 8, offered)))!;
    expect([messageType(renewing), renewing.flags, formatIPv4(renewing.ciaddr), renewing.options.has(50), renewing.options.has(54)]).toEqual([
      MessageType.REQUEST,
      0,
      '10.77.0.81',
      false,
      false,
    ]);
    expect(renewing.options.get(61)).toEqual(Buffer.from('\0ctr1/net1/eth0'));

    const release = decodeMessage(encodeMessage(releaseMessage(identity, mac, 9, offered, server)))!;
    expect([...release.options.keys()]).toEqual([53, 54, 61]);
    expect([messageType(release), formatIPv4(release.ciaddr), formatIPv4(release.options.get(54)!)]).toEqual([MessageType.RELEASE, '10.77.0.81', '10.77.0.1']);
  });

  it("decodes dnsmasq's DHCPACK and makes the reference's result of it, with dns", () => {
    const ack = decodeMessage(DNSMASQ_ACK)!;
    expect([ack.op, messageType(ack), formatIPv4(ack.yiaddr), formatIPv4(ack.siaddr), ack.chaddr.toString('hex'), ack.flags]).toEqual([
      2,
      MessageType.ACK,
      '10.77.0.81',
      '10.77.0.1',
      'c272c05b833d',
      0x8000,
    ]);
    expect([...ack.options.keys()]).toEqual([53, 54, 51, 58, 59, 1, 28, 121, 119, 15, 6, 3]);
    expect(leaseResult(ack, '1.1.0')).toEqual({
      cniVersion: '1.1.0',
      ips: [{ address: '10.77.0.81/24', gateway: '10.77.0.1' }],
      // option 121 holds routes, so it alone says what they are (RFC 3442)
      routes: [
        { dst: '10.99.0.0/16', gw: '10.77.0.254' },
        { dst: '0.0.0.0/0', gw: '10.77.0.1' },
      ],
      dns: { nameservers: ['10.77.0.53', '10.77.0.54'], domain: 'lan.example', search: ['example.com', 'corp.example.com'] },
    });
  });

  it('refuses what is not a DHCP message, concatenates split options (RFC 3396), reads options in file and sname (52)', () => {
    expect(decodeMessage(Buffer.alloc(100))).toBeUndefined();
    expect(decodeMessage(Buffer.alloc(300))).toBeUndefined(); // no magic cookie
    // the client id (61) runs past the end
    expect(decodeMessage(encodeMessage(discoverMessage(identity, mac, 1)).subarray(0, 250))).toBeUndefined();

    const long = Buffer.alloc(300, 0x61);
    const msg = decodeMessage(encodeMessage(discoverMessage({ ...identity, provide: new Map([[77, long]]) }, mac, 1)))!;
    expect(msg.options.get(77)).toEqual(long);

    const overloaded = encodeMessage(discoverMessage(identity, mac, 1, 0));
    const withFile = Buffer.from(overloaded);
    // option 52 = 1 (file holds options) replaces END; file (108..235) holds option 12 "x" and END
    withFile.set([52, 1, 1, 255], 272);
    withFile.set([12, 1, 0x78, 255], 108);
    expect(decodeMessage(withFile)!.options.get(12)).toEqual(Buffer.from('x'));
  });
});

describe('options the client reads', () => {
  it('classless static routes (121): width, significant octets, router; a malformed option is none', () => {
    expect(
      classlessRoutes(hex('00 0a4d0001  10 0a63 0a4d00fe  20 0a000001 00000000  18 c0a801 0a4d0001'))!.map((r) => `${formatIPv4(r.dst)}/${r.length} ${formatIPv4(r.router)}`),
    ).toEqual(['0.0.0.0/0 10.77.0.1', '10.99.0.0/16 10.77.0.254', '10.0.0.1/32 0.0.0.0', '192.168.1.0/24 10.77.0.1']);
    expect(classlessRoutes(hex('21 0a000000 00000001'))).toBeUndefined(); // width 33
    expect(classlessRoutes(hex('18 0a4d00 0a4d'))).toBeUndefined(); // truncated router
    expect(classlessRoutes(undefined)).toEqual([]);
  });

  it('static routes (33): destinations with their classful length, as Go DefaultMask', () => {
    expect(staticRoutes(hex('0a000000 0a4d0001  ac100000 0a4d0002  c0a80100 0a4d0003  01020304')).map((r) => `${formatIPv4(r.dst)}/${r.length} ${formatIPv4(r.router)}`)).toEqual([
      '10.0.0.0/8 10.77.0.1',
      '172.16.0.0/16 10.77.0.2',
      '192.168.1.0/24 10.77.0.3',
    ]);
  });

  it('domain search (119): labels, compression pointers, and no loops', () => {
    expect(domainSearch(hex('07 6578616d706c65 03 636f6d 00  04 636f7270 c000'))).toEqual(['example.com', 'corp.example.com']);
    expect(domainSearch(hex('c000'))).toBeUndefined(); // a pointer to itself
    expect(domainSearch(hex('05 6162'))).toBeUndefined(); // a label past the end
  });

  it('netmasks: contiguous ones only', () => {
    expect([hex('ffffff00'), hex('ffffffff'), hex('00000000'), hex('fffffe00'), hex('ff00ff00'), hex('ffff')].map(maskLength)).toEqual([24, 32, 0, 23, undefined, undefined]);
  });

  it('the result: no subnet mask or a broken one is a DHCP failure (160); option 33 routes and the router as the default route; priority on every route', () => {
    const base = decodeMessage(DNSMASQ_ACK)!;
    const without = (...codes: number[]) => ({ ...base, options: new Map([...base.options].filter(([code]) => !codes.includes(code))) });
    expect(thrown(() => leaseResult(without(Option.SUBNET_MASK), '1.0.0'))).toMatchObject({ code: 160, message: 'DHCP option Subnet Mask not found in DHCPACK' });
    const holes = without();
    holes.options.set(Option.SUBNET_MASK, hex('ff00ff00'));
    expect(thrown(() => leaseResult(holes, '1.0.0'))).toMatchObject({ code: 160, message: "the DHCPACK's subnet mask 255.0.255.0 is not a contiguous mask" });

    const classful = without(Option.CLASSLESS_ROUTES, Option.DNS_SERVERS, Option.DOMAIN_NAME, Option.DOMAIN_SEARCH);
    classful.options.set(Option.STATIC_ROUTES, hex('0a630000 0a4d00fe'));
    expect(leaseResult(classful, '1.0.0', 50)).toEqual({
      cniVersion: '1.0.0',
      ips: [{ address: '10.77.0.81/24', gateway: '10.77.0.1' }],
      routes: [
        { dst: '10.0.0.0/8', gw: '10.77.0.254', priority: 50 },
        { dst: '0.0.0.0/0', gw: '10.77.0.1', priority: 50 },
      ],
    });
    // a classless route without a router is on the link
    const onLink = without(Option.ROUTER);
    onLink.options.set(Option.CLASSLESS_ROUTES, hex('10 0a63 00000000'));
    expect(leaseResult(onLink, '1.0.0').routes).toEqual([{ dst: '10.99.0.0/16', scope: 253 }]);
    expect(leaseResult(onLink, '1.0.0').ips).toEqual([{ address: '10.77.0.81/24' }]);
  });
});

describe('IPv4 and UDP framing', () => {
  it('wraps a message in IPv4 and UDP headers with both checksums, byte for byte', () => {
    const payload = encodeMessage(discoverMessage(identity, mac, 0x12345678));
    const packet = encodeUdp({ source: Buffer.alloc(4), destination: parseIPv4('255.255.255.255')!, sourcePort: 68, destinationPort: 67, payload });
    expect(packet.subarray(0, 28)).toEqual(hex('4500 0148 0000 0000 40 11 79a6 00000000 ffffffff   0044 0043 0134 b061'));
    expect(packet.subarray(28)).toEqual(payload);
    expect(decodeUdp(packet)).toEqual({ source: Buffer.alloc(4), destination: hex('ffffffff'), sourcePort: 68, destinationPort: 67, payload });
  });

  it('refuses other protocols, fragments, a bad header checksum and lengths that do not add up', () => {
    const packet = encodeUdp({ source: parseIPv4('10.0.0.1')!, destination: parseIPv4('10.0.0.2')!, sourcePort: 67, destinationPort: 68, payload: Buffer.from('hello') });
    const changed = (at: number, value: number) => {
      const copy = Buffer.from(packet);
      copy[at] = value;
      return copy;
    };
    expect(decodeUdp(packet)?.payload.toString()).toBe('hello');
    expect(decodeUdp(changed(9, 6))).toBeUndefined(); // TCP
    expect(decodeUdp(changed(6, 0x20))).toBeUndefined(); // more fragments
    expect(decodeUdp(changed(11, packet[11] ^ 1))).toBeUndefined(); // checksum
    expect(decodeUdp(packet.subarray(0, 30))).toBeUndefined(); // shorter than its total length
  });
});
