import { describe, expect, it } from 'vitest';
import { formatIP } from '../../lib/ip';
import type { CmdArgs } from '../../lib/skel';
import { cmdArgs } from '../../test/helpers/cmd-args';
import { MAX_RANGES, parseConfig } from './config';
import { formatRangeSet } from './range';

const cmd = (ipam: Record<string, unknown>, extra: Record<string, unknown> = {}, cniArgs = ''): CmdArgs =>
  cmdArgs({ type: 'host-local', ipam: { type: 'host-local', ...ipam }, ...extra }, { cniArgs });

describe('host-local parseConfig', () => {
  it('reads ranges, defaults dataDir and keeps routes', () => {
    const conf = parseConfig(cmd({ ranges: [[{ subnet: '10.1.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }] }));
    expect(conf.storeDir).toBe('/var/lib/cni/networks/net1');
    expect(conf.rangeSets.map(formatRangeSet)).toEqual(['10.1.0.1-10.1.255.254']);
    expect(conf.routes).toEqual([{ dst: '0.0.0.0/0' }]);
  });

  it('puts runtimeConfig.ipRanges first, then the legacy subnet, then ranges', () => {
    const conf = parseConfig(
      cmd({ subnet: '10.2.0.0/24', ranges: [[{ subnet: '10.3.0.0/24' }]], dataDir: '/tmp/x' }, { runtimeConfig: { ipRanges: [[{ subnet: '10.1.0.0/24' }]] } }),
    );
    expect(conf.rangeSets.map((s) => formatIP(s[0].subnet.ip))).toEqual(['10.1.0.0', '10.2.0.0', '10.3.0.0']);
    expect(conf.storeDir).toBe('/tmp/x/net1');
  });

  it("reads go-cni's ipRanges (Go field names, empty strings for what the pod does not set)", () => {
    const ipRanges = [[{ Subnet: '10.1.0.0/24', RangeStart: '10.1.0.100', RangeEnd: '10.1.0.120', Gateway: '' }]];
    const conf = parseConfig(cmd({}, { runtimeConfig: { ipRanges } }));
    expect(conf.rangeSets.map(formatRangeSet)).toEqual(['10.1.0.100-10.1.0.120']);
    expect(formatIP(conf.rangeSets[0][0].gateway)).toBe('10.1.0.1');
  });

  it('collects requested IPs from the ips capability, args.cni.ips and CNI_ARGS IP=', () => {
    const conf = parseConfig(
      cmd(
        { ranges: [[{ subnet: '10.1.0.0/16' }], [{ subnet: 'fd00::/64' }]] },
        { runtimeConfig: { ips: ['10.1.0.9/16'] }, args: { cni: { ips: ['fd00::9'] } } },
        'IP=10.1.0.9,fd00::7',
      ),
    );
    expect(conf.requestedIPs.map(formatIP)).toEqual(['10.1.0.9', 'fd00::9', 'fd00::7']);
  });

  it('names the field of every bad value', () => {
    const cases: Array<[CmdArgs, string]> = [
      [cmd({}), 'invalid field "ipam.ranges": no IP ranges specified'],
      [cmd({ ranges: [[{ subnet: '10.1.0.0/36' }]] }), 'invalid field "ipam.ranges[0][0].subnet"'],
      [cmd({ ranges: [[{ subnet: 10 }]] }), 'field "ipam.ranges[0][0].subnet": expected string, got number 10'],
      [cmd({ ranges: 'x' }), 'field "ipam.ranges": expected array'],
      [cmd({ subnet: '10.1.0.0/24', rangeStart: '10.9.0.1' }), 'invalid field "ipam.rangeStart": 10.9.0.1 is not in subnet'],
      [cmd({ ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: '10.1.0.0/25' }]] }), 'invalid field "ipam.ranges[1]": range set overlaps ipam.ranges[0]'],
      [cmd({ ranges: [[{ subnet: '10.1.0.0/24' }]] }, { runtimeConfig: { ips: ['nope'] } }), 'invalid field "runtimeConfig.ips[0]": "nope"'],
      [cmd({ ranges: [[{ subnet: '10.1.0.0/24' }]] }, {}, 'IP=1.2.3'), 'invalid CNI_ARGS IP: "1.2.3"'],
      [cmd({ ranges: [[{ subnet: '10.1.0.0/24' }]], dataDir: '' }), 'field "ipam.dataDir"'],
    ];
    for (const [c, message] of cases) expect(() => parseConfig(c), message).toThrow(message);
  });

  it('rejects unknown CNI_ARGS keys unless IgnoreUnknown is set', () => {
    const ranges = [[{ subnet: '10.1.0.0/24' }]];
    expect(() => parseConfig(cmd({ ranges }, {}, 'K8S_POD_NAME=x'))).toThrow('unknown CNI_ARGS key(s) "K8S_POD_NAME"');
    expect(() => parseConfig(cmd({ ranges }, {}, 'IgnoreUnknown=1;K8S_POD_NAME=x'))).not.toThrow();
  });

  it('names both range sets of an overlap found after sorting sets given out of order', () => {
    const ranges = [[{ subnet: '10.1.200.0/24' }], [{ subnet: 'fd00::/64' }], [{ subnet: '10.3.0.0/24' }, { subnet: '10.1.0.0/16' }]];
    expect(() => parseConfig(cmd({ ranges }))).toThrow('invalid field "ipam.ranges[2]": range set overlaps ipam.ranges[0]');
    const withRuntime = cmd({ ranges: [[{ subnet: '10.5.0.0/16' }]] }, { runtimeConfig: { ipRanges: [[{ subnet: '10.5.7.0/24' }]] } });
    expect(() => parseConfig(withRuntime)).toThrow('invalid field "ipam.ranges[0]": range set overlaps runtimeConfig.ipRanges[0]');
  });

  describe(`at most ${MAX_RANGES} ranges in all range sets`, () => {
    const subnets = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => ({ subnet: `10.${(i + offset) >> 8}.${(i + offset) & 255}.0/24` }));
    const codeAndMessage = (c: CmdArgs) => {
      try {
        parseConfig(c);
      } catch (err) {
        return { code: (err as { code?: number }).code, message: (err as Error).message };
      }
      return undefined;
    };

    it('names the field that takes the total over the limit (code 7)', () => {
      expect(codeAndMessage(cmd({ ranges: [subnets(MAX_RANGES + 1)] }))).toEqual({
        code: 7,
        message: `invalid field "ipam.ranges": ${MAX_RANGES + 1} ranges in all range sets; at most ${MAX_RANGES} are allowed`,
      });
      const split = cmd({ ranges: subnets(600).map((r) => [r]) }, { runtimeConfig: { ipRanges: [subnets(600, 600)] } });
      expect(codeAndMessage(split)?.message).toContain('invalid field "ipam.ranges": 1200 ranges');
      const runtime = cmd({ ranges: [subnets(1)] }, { runtimeConfig: { ipRanges: [subnets(20_000)] } });
      expect(codeAndMessage(runtime)?.message).toContain('invalid field "runtimeConfig.ipRanges": 20001 ranges');
    });

    it(`validates ${MAX_RANGES} disjoint ranges in one set, and ${MAX_RANGES} single-range sets, in well under a second`, () => {
      // given in reverse order, so the checks cannot rely on sorted input; pairwise checks took ~0.2 s for each
      const oneSet = cmd({ ranges: [subnets(MAX_RANGES).reverse()] });
      const manySets = cmd({
        ranges: subnets(MAX_RANGES)
          .reverse()
          .map((r) => [r]),
      });
      const timeBoth = () => {
        const start = performance.now();
        expect(parseConfig(oneSet).rangeSets[0]).toHaveLength(MAX_RANGES);
        expect(parseConfig(manySets).rangeSets).toHaveLength(MAX_RANGES);
        return performance.now() - start;
      };
      // the best of three runs, so a busy machine's pause does not count
      const best = Math.min(timeBoth(), timeBoth(), timeBoth());
      expect(best).toBeLessThan(250);
    });
  });
});
