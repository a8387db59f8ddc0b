import { describe, expect, it } from 'vitest';
import { IFF_MULTI_QUEUE, IFF_NO_PI, IFF_TAP, IFF_VNET_HDR } from '../../lib/ffi/tun';
import { cmdArgs, errorOf } from '../../test/helpers/cmd-args';
import { parseConfig } from './config';

const parse = (extra: Record<string, unknown> = {}, cniArgs = '') => parseConfig(cmdArgs({ type: 'tap', ...extra }, { cniArgs }));

describe('tap parseConfig', () => {
  it('fills the reference defaults: one queue, the kernel MTU, no owner, group, bridge or IPAM', () => {
    expect(parse()).toMatchObject({ multiQueue: false, mtu: undefined, mac: undefined, owner: undefined, group: undefined, bridge: undefined, ipamType: undefined });
  });

  it("creates with the reference's flags: ip tuntap's without both owner and group, vishvananda/netlink's with both", () => {
    expect(parse().flags).toBe(IFF_TAP | IFF_NO_PI);
    expect(parse({ multiQueue: true, owner: 1000 }).flags).toBe(IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE);
    expect(parse({ owner: 1000, group: 100 }).flags).toBe(IFF_TAP | IFF_VNET_HDR);
    expect(parse({ owner: 0, group: 0, multiQueue: true }).flags).toBe(IFF_TAP | IFF_VNET_HDR | IFF_MULTI_QUEUE | IFF_NO_PI);
  });

  it('takes the MAC from the config, CNI_ARGS MAC and runtimeConfig.mac, the last winning', () => {
    expect(parse({ mac: '02:00:00:00:00:01' }, 'MAC=02:00:00:00:00:02').mac).toBe('02:00:00:00:00:02');
    expect(parse({ runtimeConfig: { mac: '02:00:00:00:00:03' } }, 'MAC=02:00:00:00:00:02').mac).toBe('02:00:00:00:00:03');
  });

  it('rejects bad values naming the field (7), and selinuxContext as unsupported (2)', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ mtu: 20 }, 'invalid field "mtu"'],
      [{ mtu: -1 }, 'invalid field "mtu"'],
      [{ owner: -1 }, 'field "owner"'],
      [{ group: 'wheel' }, 'field "group"'],
      [{ bridge: 'br 0' }, 'invalid field "bridge"'],
      [{ multiQueue: 1 }, 'field "multiQueue"'],
      [{ mac: '02:00:00:00:00' }, 'invalid field "mac"'],
    ];
    for (const [extra, message] of cases) {
      const err = errorOf(() => parse(extra));
      expect(err?.code, message).toBe(7);
      expect(err?.msg).toContain(message);
    }
    expect(errorOf(() => parse({ selinuxContext: 'system_u:system_r:container_t:s0' }))?.code).toBe(2);
    expect(() => parse({ selinuxContext: '' })).not.toThrow();
  });
});
