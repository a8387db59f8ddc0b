import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, Option } from './message';
import { FlagError, HelpRequested, parseDaemonFlags, parseDuration } from './flags';
import { leaseTimes, nextStep, retryDelay } from './lease';
import { discoverMessage } from './client';

describe('dhcp daemon flags', () => {
  it("defaults are the reference's: 10 s per message, 62 s between tries at most, 208 s in all", () => {
    expect(parseDaemonFlags([])).toEqual({
      pidfile: '',
      hostprefix: '',
      socketpath: '',
      broadcast: false,
      timeoutMs: 10_000,
      resendMaxMs: 62_000,
      resendTimeoutMs: 208_000,
      leasedir: '',
    });
  });

  it("takes Go's flag forms: -name value, -name=value, --name, bare booleans and -bool=false", () => {
    expect(
      parseDaemonFlags([
        '-socketpath',
        '/run/x.sock',
        '--pidfile=/run/x.pid',
        '-broadcast',
        '-timeout=2s',
        '--resendmax',
        '5s',
        '-resendtimeout',
        '1m30s',
        '-hostprefix=/host',
        '-leasedir',
        '/l',
      ]),
    ).toEqual({
      pidfile: '/run/x.pid',
      hostprefix: '/host',
      socketpath: '/run/x.sock',
      broadcast: true,
      timeoutMs: 2000,
      resendMaxMs: 5000,
      resendTimeoutMs: 90_000,
      leasedir: '/l',
    });
    expect(parseDaemonFlags(['-broadcast=false']).broadcast).toBe(false);
    expect(parseDaemonFlags(['-broadcast=1']).broadcast).toBe(true);
  });

  it('refuses unknown flags, missing values, bad durations and stray arguments; -h asks for help', () => {
    const message = (args: string[]) => {
      try {
        parseDaemonFlags(args);
      } catch (err) {
        expect(err).toBeInstanceOf(FlagError);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(message(['-bogus'])).toBe('flag provided but not defined: -bogus');
    expect(message(['-socketpath'])).toBe('flag needs an argument: -socketpath');
    expect(message(['-timeout', '10'])).toContain('invalid value "10" for flag -timeout');
    expect(message(['-broadcast=maybe'])).toContain('invalid boolean value "maybe"');
    expect(message(['extra'])).toBe('unexpected argument "extra"');
    expect(() => parseDaemonFlags(['-h'])).toThrow(HelpRequested);
    expect(() => parseDaemonFlags(['--help'])).toThrow(HelpRequested);
  });

  it("parses durations as Go's time.ParseDuration, in milliseconds", () => {
    expect(['0', '10s', '1m30s', '1.5h', '250ms', '500us', '2h45m', '+3s', '-1s'].map(parseDuration)).toEqual([0, 10_000, 90_000, 5_400_000, 250, 0.5, 9_900_000, 3000, -1000]);
    for (const bad of ['', '10', 's', '1x', '1.2.3s', '.s']) expect(parseDuration(bad), bad).toBeUndefined();
  });
});

describe('lease times', () => {
  const ackWith = (times: Partial<Record<51 | 58 | 59, number>>) => {
    const msg = decodeMessage(encodeMessage(discoverMessage({ clientId: 'x', provide: new Map(), request: [] }, Buffer.alloc(6), 1)))!;
    for (const [code, value] of Object.entries(times)) {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(value);
      msg.options.set(Number(code), b);
    }
    return msg;
  };

  it('T1 and T2 from options 58 and 59; defaults of half and 85 % of the lease; an hour without option 51', () => {
    expect(leaseTimes(ackWith({ 51: 120, 58: 10, 59: 105 }), 1000)).toEqual({ renewAt: 11_000, rebindAt: 106_000, expiresAt: 121_000 });
    expect(leaseTimes(ackWith({ 51: 100 }), 0)).toEqual({ renewAt: 50_000, rebindAt: 85_000, expiresAt: 100_000 });
    expect(leaseTimes(ackWith({}), 0)).toEqual({ renewAt: 1_800_000, rebindAt: 3_060_000, expiresAt: 3_600_000 });
    // a T2 past the lease, or a T1 past T2, is ignored (RFC 2131 4.4.5; the reference 1.1.1)
    expect(leaseTimes(ackWith({ 51: 100, 58: 90, 59: 200 }), 0)).toEqual({ renewAt: 50_000, rebindAt: 85_000, expiresAt: 100_000 });
    expect(Option.LEASE_TIME).toBe(51);
  });

  it('the next step: wait for T1, renew until T2, rebind until expiry; retries halve the time left, not under the minimum, not past the limit', () => {
    const times = { renewAt: 10, rebindAt: 20, expiresAt: 30 };
    expect([0, 10, 19, 20, 29, 30].map((now) => nextStep(times, now))).toEqual([
      { wait: 10 },
      { renew: true },
      { renew: true },
      { rebind: true },
      { rebind: true },
      { expired: true },
    ]);
    expect(retryDelay(0, 100_000, 10_000)).toBe(50_000);
    expect(retryDelay(0, 15_000, 10_000)).toBe(10_000);
    expect(retryDelay(0, 5_000, 10_000)).toBe(5_000);
    expect(retryDelay(10, 5, 10_000)).toBe(0);
  });
});
