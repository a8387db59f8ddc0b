import { describe, expect, it } from 'vitest';
import { formatPrefix } from '../../lib/ip';
import { cmdArgs } from '../../test/helpers/cmd-args';
import { MAX_BURST_BITS, parseConfig } from './config';

const parse = (extra: Record<string, unknown>) => parseConfig(cmdArgs({ type: 'bandwidth', ...extra }));
const error = (extra: Record<string, unknown>) => {
  try {
    parse(extra);
  } catch (err) {
    return err as { code: number; message: string };
  }
  throw new Error('parsed');
};

describe('bandwidth config', () => {
  it('no limits at all: nothing to shape', () => {
    expect(parse({})).toEqual({ cniVersion: '1.0.0', networkName: 'net1', ingress: undefined, egress: undefined, subnets: undefined });
    expect(parse({ ingressRate: 0, ingressBurst: 0, runtimeConfig: { bandwidth: null } })).toMatchObject({ ingress: undefined, egress: undefined });
  });

  it('reads the four fields per direction, in bits/s and bits', () => {
    expect(parse({ ingressRate: 8_000_000, ingressBurst: 80_000, egressRate: 4_000_000, egressBurst: 40_000 })).toMatchObject({
      ingress: { rate: 8_000_000, burst: 80_000 },
      egress: { rate: 4_000_000, burst: 40_000 },
    });
  });

  it("reads go-cni's field names (containerd's CRI): rates from the pod's annotations, bursts of 2^32-1 bits", () => {
    const bandwidth = { IngressRate: 2_000_000, IngressBurst: 4_294_967_295, EgressRate: 3_000_000, EgressBurst: 4_294_967_295 };
    expect(parse({ capabilities: { bandwidth: true }, runtimeConfig: { bandwidth } })).toMatchObject({
      ingress: { rate: 2_000_000, burst: 4_294_967_295 },
      egress: { rate: 3_000_000, burst: 4_294_967_295 },
    });
    expect(error({ runtimeConfig: { bandwidth: { IngressRate: 1_000_000 } } }).message).toContain('runtimeConfig.bandwidth.ingressBurst');
  });

  it('takes the bandwidth capability when the config sets no rate or burst of its own', () => {
    const conf = parse({ capabilities: { bandwidth: true }, runtimeConfig: { bandwidth: { egressRate: 1_000_000, egressBurst: 10_000 } } });
    expect(conf).toMatchObject({ ingress: undefined, egress: { rate: 1_000_000, burst: 10_000 } });
  });

  it("as the reference, the config's own fields win over runtimeConfig.bandwidth as soon as it names one, and then runtimeConfig is not read", () => {
    const conf = parse({ ingressRate: 0, runtimeConfig: { bandwidth: { egressRate: 1_000_000, egressBurst: 10_000 } } });
    expect(conf).toMatchObject({ ingress: undefined, egress: undefined });
    // nor validated
    expect(parse({ ingressRate: 8, ingressBurst: 8, runtimeConfig: { bandwidth: { egressRate: 1_000_000 } } })).toMatchObject({ ingress: { rate: 8, burst: 8 } });
  });

  it.each([
    [{ ingressRate: 1000 }, 'ingressBurst', 'must be set when ingressRate is'],
    [{ ingressBurst: 1000 }, 'ingressRate', 'must be set when ingressBurst is'],
    [{ egressRate: 1000, egressBurst: 0 }, 'egressBurst', 'set both or neither'],
    [{ egressRate: 1000, egressBurst: MAX_BURST_BITS + 1 }, 'egressBurst', 'more than 4 GiB'],
    [{ ingressRate: 7, ingressBurst: 1000 }, 'ingressRate', 'at least 8'],
    [{ ingressRate: 1000, ingressBurst: 7 }, 'ingressBurst', 'at least 8'],
    [{ runtimeConfig: { bandwidth: { ingressRate: 1000 } } }, 'runtimeConfig.bandwidth.ingressBurst', 'must be set'],
    [{ ingressRate: -1, ingressBurst: 10 }, 'ingressRate', 'at least 0'],
    [{ ingressRate: 1.5, ingressBurst: 10 }, 'ingressRate', 'expected int'],
    [{ egressBurst: '10' }, 'egressBurst', 'expected number'],
  ])('refuses %j with code 7 naming %s', (extra, field, why) => {
    const err = error(extra);
    expect(err.code).toBe(7);
    expect(err.message).toContain(`"${field}"`);
    expect(err.message).toContain(why);
  });

  it('accepts the largest burst the reference accepts (CRI-O sends it) and the one containerd sends', () => {
    expect(parse({ ingressRate: 1_000_000, ingressBurst: MAX_BURST_BITS }).ingress?.burst).toBe(34_359_738_359);
    expect(parse({ ingressRate: 1_000_000, ingressBurst: 0xffffffff }).ingress?.burst).toBe(0xffffffff);
  });

  it('shapedSubnets or unshapedSubnets, network addresses, IPv4 and IPv6', () => {
    const conf = parse({ ingressRate: 1000, ingressBurst: 1000, unshapedSubnets: ['10.1.2.3/24', 'fd00::1/64'] });
    expect(conf.subnets?.mode).toBe('unshaped');
    expect(conf.subnets?.subnets.map(formatPrefix)).toEqual(['10.1.2.0/24', 'fd00::/64']);
    expect(parse({ shapedSubnets: ['0.0.0.0/0'] }).subnets?.mode).toBe('shaped');
    expect(parse({ shapedSubnets: [], unshapedSubnets: [] }).subnets).toBeUndefined();
  });

  it('subnets come from runtimeConfig.bandwidth when it names them, else from the config (limits may come from the other one)', () => {
    const conf = parse({ unshapedSubnets: ['10.0.0.0/8'], runtimeConfig: { bandwidth: { egressRate: 8000, egressBurst: 8000 } } });
    expect(conf).toMatchObject({ egress: { rate: 8000 }, subnets: { mode: 'unshaped' } });
    const runtime = parse({ unshapedSubnets: ['10.0.0.0/8'], runtimeConfig: { bandwidth: { shapedSubnets: ['192.168.0.0/16'] } } });
    expect(runtime.subnets?.mode).toBe('shaped');
    expect(runtime.subnets?.subnets.map(formatPrefix)).toEqual(['192.168.0.0/16']);
  });

  it.each([
    [{ shapedSubnets: ['10.0.0.0/8'], unshapedSubnets: ['10.1.0.0/16'] }, 'shapedSubnets', 'cannot be used together with unshapedSubnets'],
    [{ runtimeConfig: { bandwidth: { shapedSubnets: ['10.0.0.0/8'], unshapedSubnets: ['10.1.0.0/16'] } } }, 'runtimeConfig.bandwidth.shapedSubnets', 'together'],
    [{ unshapedSubnets: ['10.0.0.0/8', '10.0.0.300/8'] }, 'unshapedSubnets[1]', 'not a subnet'],
    [{ shapedSubnets: ['10.0.0.0'] }, 'shapedSubnets[0]', 'not a subnet'],
    [{ shapedSubnets: 'all' }, 'shapedSubnets', 'expected array'],
  ])('refuses subnets %j naming %s', (extra, field, why) => {
    const err = error(extra);
    expect(err.code).toBe(7);
    expect(err.message).toContain(`"${field}"`);
    expect(err.message).toContain(why);
  });
});
