import { beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/helpers/fake-clock';
import { CniError, ErrorCode } from '../../lib/errors';
import { Logger, setLogger } from '../../lib/log';
import { formatMac } from '../../lib/netlink';
import type { Granted, RenewOutcome } from './client';
import { recordOf } from './held-lease';
import { LeaseKeeper } from './keeper';
import type { LeaseOwner, LeaseRecord } from './lease';
import type { LeaseIO } from './lease-io';
import type { ClientLink } from './link';
import { MessageType, Option, encodeMessage, request } from './message';

const SECOND = 1000;
const MAC = Buffer.from('02000000aa01', 'hex');
const owner: LeaseOwner = { clientId: 'ctr1/lan/eth0', containerId: 'ctr1', network: 'lan', ifname: 'eth0', netns: '/run/netns/ctr1' };
const identity = { clientId: owner.clientId, provide: new Map<number, Buffer>(), request: [1, 3] };
const link: ClientLink = { netns: owner.netns, ifname: owner.ifname, index: 7, mac: MAC };
const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);

/** A DHCPACK for 10.0.0.<host>/24 of `lease` s, T1 `t1` s and T2 `t2` s, received at `at`. */
function granted(at: number, { lease = 100, t1 = 50, t2 = 85, host = 50 } = {}): Granted {
  const options = new Map([
    [Option.MESSAGE_TYPE, Buffer.from([MessageType.ACK])],
    [Option.SUBNET_MASK, Buffer.from([255, 255, 255, 0])],
    [Option.LEASE_TIME, u32(lease)],
    [Option.RENEWAL_TIME, u32(t1)],
    [Option.REBINDING_TIME, u32(t2)],
  ]);
  const ack = { ...request({ xid: 1, chaddr: MAC, options }), op: 2, yiaddr: Buffer.from([10, 0, 0, host]) };
  return { ack, ackBytes: encodeMessage(ack), serverMac: Buffer.from('020000000001', 'hex'), at };
}

/** A LeaseIO with one interface and a DHCP server whose answers the test sets; it records what was done, and when. */
function fakeIO(clock: FakeClock) {
  const calls: string[] = [];
  const world = {
    interfaceGone: false,
    renewal: 'ack' as 'ack' | 'nak' | 'none',
    acquisition: 'ack' as 'ack' | 'none',
    times: { lease: 100, t1: 50, t2: 85 },
  };
  const did = (what: string) => calls.push(`${(clock.now() - START) / SECOND}s ${what}`);
  const io: LeaseIO = {
    findLink: async () => (world.interfaceGone ? undefined : { mac: formatMac(MAC) }),
    prepareLink: async () => link,
    currentLink: async () => (world.interfaceGone ? undefined : link),
    takeLinkDown: async () => void did('down'),
    acquire: async () => {
      did('acquire');
      if (world.acquisition === 'none') throw new CniError(ErrorCode.TryAgainLater, 'no lease');
      return granted(clock.now(), world.times);
    },
    renew: async (_link, _identity, _held, mode): Promise<RenewOutcome> => {
      did(mode);
      if (world.renewal === 'ack') return { granted: granted(clock.now(), world.times) };
      return world.renewal === 'nak' ? { nak: 'DHCPNAK' } : { none: true };
    },
    release: () => void did('release'),
  };
  return { io, calls, world };
}

const START = 1_000_000;

describe('the lease keeper, on a fake clock', () => {
  let clock: FakeClock;
  let saved: Map<string, LeaseRecord>;
  let keeper: LeaseKeeper;
  let net: ReturnType<typeof fakeIO>;
  const add = () => keeper.add(owner, identity, new AbortController().signal);

  beforeEach(() => {
    setLogger(new Logger({ plugin: 'dhcp', command: 'daemon' }, () => undefined));
    clock = new FakeClock(START);
    saved = new Map();
    net = fakeIO(clock);
    keeper = new LeaseKeeper({ save: (r) => void saved.set(r.clientId, r), remove: (id) => void saved.delete(id) }, net.io, clock);
  });

  it('renews at T1, not before, and counts the next T1 from the renewal', async () => {
    const answer = await add();
    expect(answer.expiresAt).toBe(START + 100 * SECOND);
    await clock.advance(50 * SECOND - 1);
    expect(net.calls).toEqual(['0s acquire']);
    await clock.advance(1);
    expect(net.calls).toEqual(['0s acquire', '50s renew']);
    expect(saved.get(owner.clientId)?.at).toBe(START + 50 * SECOND);
    await clock.advance(50 * SECOND);
    expect(net.calls).toEqual(['0s acquire', '50s renew', '100s renew']);
    expect(keeper.size).toBe(1);
  });

  it('without an answer: tries again after half the time left (at least 10 s) until T2, rebinds from T2, and at expiry asks anew', async () => {
    net.world.renewal = 'none';
    await add();
    await clock.advance(100 * SECOND - 1);
    expect(net.calls).toEqual(['0s acquire', '50s renew', '67.5s renew', '77.5s renew', '85s rebind', '95s rebind']);
    net.world.renewal = 'ack';
    await clock.advance(1);
    expect(net.calls.slice(6)).toEqual(['100s acquire']);
    expect(saved.get(owner.clientId)?.at).toBe(START + 100 * SECOND);
    await clock.advance(50 * SECOND);
    expect(net.calls.slice(7)).toEqual(['150s renew']);
  });

  it('a lease that expires with no new one takes the interface down and is dropped: no timer, no file', async () => {
    net.world.renewal = 'none';
    await add();
    net.world.acquisition = 'none';
    await clock.advance(100 * SECOND);
    expect(net.calls.slice(-3)).toEqual(['95s rebind', '100s acquire', '100s down']);
    expect(keeper.size).toBe(0);
    expect(saved.size).toBe(0);
    expect(clock.nextDue).toBeUndefined();
    await expect(keeper.check(owner)).rejects.toMatchObject({ code: ErrorCode.AllocationMissing });
  });

  it('a NAK at T1 asks for a new lease at once', async () => {
    net.world.renewal = 'nak';
    await add();
    await clock.advance(50 * SECOND);
    expect(net.calls).toEqual(['0s acquire', '50s renew', '50s acquire']);
    expect(keeper.size).toBe(1);
  });

  it('an interface gone at T1 forgets the lease without a renewal or a release', async () => {
    await add();
    net.world.interfaceGone = true;
    await clock.advance(50 * SECOND);
    expect(net.calls).toEqual(['0s acquire']);
    expect(keeper.size).toBe(0);
    expect(saved.size).toBe(0);
  });

  it('DEL releases the lease and its timer; stop ends every timer', async () => {
    await add();
    await keeper.release(owner.clientId);
    expect(net.calls).toEqual(['0s acquire', '0s release']);
    expect(clock.nextDue).toBeUndefined();
    await add();
    keeper.stop();
    await clock.advance(200 * SECOND);
    expect(net.calls).toEqual(['0s acquire', '0s release', '0s acquire']);
    expect(saved.size).toBe(1);
  });

  it('CHECK holds while the lease is valid and says 103 once it expired', async () => {
    await add();
    await expect(keeper.check(owner)).resolves.toMatchObject({ expiresAt: START + 100 * SECOND });
    keeper.stop();
    await clock.advance(100 * SECOND);
    await expect(keeper.check(owner)).rejects.toMatchObject({ code: ErrorCode.AllocationMissing });
  });

  it('waits longer than setTimeout can in steps of at most 2^31-1 ms', async () => {
    net.world.times = { lease: 60 * 86_400, t1: 30 * 86_400, t2: 50 * 86_400 };
    await add();
    await clock.advance(30 * 86_400 * SECOND - 1);
    expect(net.calls).toEqual(['0s acquire']);
    await clock.advance(1);
    expect(net.calls).toEqual(['0s acquire', `${30 * 86_400}s renew`]);
    expect(Math.max(...clock.delays)).toBe(2 ** 31 - 1);
  });

  it('a restored lease whose T1 passed while no daemon ran renews at once; one whose interface is gone is dropped', async () => {
    const record = recordOf({ owner, identity, mac: MAC, granted: granted(START - 60 * SECOND), times: { renewAt: 0, rebindAt: 0, expiresAt: 0 }, stopped: false });
    await keeper.restore(record);
    await clock.advance(0);
    expect(net.calls).toEqual(['0s renew']);
    expect(saved.get(owner.clientId)?.at).toBe(START);
    net.world.interfaceGone = true;
    saved.set(owner.clientId, record);
    const other = new LeaseKeeper({ save: (r) => void saved.set(r.clientId, r), remove: (id) => void saved.delete(id) }, net.io, clock);
    await other.restore(record);
    expect(other.size).toBe(0);
    expect(saved.size).toBe(0);
  });
});
