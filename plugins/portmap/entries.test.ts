import { describe, expect, it } from 'vitest';
import { cmdArgs } from '../../test/helpers/cmd-args';
import type { Result } from '../../lib/types';
import { parseConfig } from './config';
import { containerAddresses, planEntries } from './entries';

const prev: Result = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'cni0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/run/netns/x' }],
  ips: [
    { address: '10.88.0.5/16', interface: 2 },
    { address: '10.99.0.5/16', interface: 1 },
    { address: 'fd00::5/64', interface: 2 },
  ],
};
const conf = (portMappings: unknown[], extra = {}) => parseConfig(cmdArgs({ type: 'portmap', runtimeConfig: { portMappings }, ...extra }));

describe('container addresses from prevResult', () => {
  it('takes the first address per family of the interface in the sandbox named CNI_IFNAME', () => {
    const a = containerAddresses(prev, 'eth0');
    expect(a[4]?.ip).toEqual({ family: 4, value: 0x0a580005n });
    expect(a[4]?.subnet.length).toBe(16);
    expect(a[6]?.subnet.length).toBe(64);
    expect(containerAddresses(prev, 'eth1')).toEqual({});
  });

  it('accepts addresses without an interface index', () => {
    expect(containerAddresses({ cniVersion: '1.0.0', ips: [{ address: '192.0.2.7/24' }] }, 'eth0')[4]).toBeDefined();
  });
});

describe('planned entries', () => {
  it('skips a mapping whose hostIP is of a family the container has no address of, as the reference does', () => {
    const v4only = containerAddresses({ cniVersion: '1.0.0', ips: [{ address: '10.88.0.5/16' }] }, 'eth0');
    const entries = planEntries(
      conf([
        { hostPort: 8080, containerPort: 80, hostIP: '0.0.0.0' },
        { hostPort: 8080, containerPort: 80, hostIP: '::' },
        { hostPort: 8081, containerPort: 81, hostIP: 'fd00::1' },
      ]),
      v4only,
      'eth0',
    );
    expect(entries.filter((e) => e.kind === 'dnat')).toEqual([{ kind: 'dnat', family: 4, protocol: 'tcp', hostPort: 8080, containerIP: '10.88.0.5', containerPort: 80 }]);
  });

  it('maps each port for every family the container has, plus hairpin/subnet and localhost masquerade', () => {
    const entries = planEntries(conf([{ hostPort: 8080, containerPort: 80 }]), containerAddresses(prev, 'eth0'), 'eth0');
    expect(entries).toEqual([
      { kind: 'dnat', family: 4, protocol: 'tcp', hostPort: 8080, containerIP: '10.88.0.5', containerPort: 80 },
      { kind: 'dnat', family: 6, protocol: 'tcp', hostPort: 8080, containerIP: 'fd00::5', containerPort: 80 },
      { kind: 'snat', family: 4, containerIP: '10.88.0.5', source: '10.88.0.0/16' },
      { kind: 'snat', family: 4, containerIP: '10.88.0.5', source: '127.0.0.0/8' },
      { kind: 'snat', family: 6, containerIP: 'fd00::5', source: 'fd00::/64' },
    ]);
  });

  it('masqAll masquerades every source; snat false masquerades nothing', () => {
    const addresses = containerAddresses(prev, 'eth0');
    const all = planEntries(conf([{ hostPort: 1, containerPort: 1, hostIP: '0.0.0.0' }], { masqAll: true }), addresses, 'eth0');
    expect(all.filter((e) => e.kind === 'snat')).toEqual([{ kind: 'snat', family: 4, containerIP: '10.88.0.5', source: '0.0.0.0/0' }]);
    const none = planEntries(conf([{ hostPort: 1, containerPort: 1 }], { snat: false }), addresses, 'eth0');
    expect(none.every((e) => e.kind === 'dnat')).toBe(true);
  });

  it('fails when the container has no address at all', () => {
    expect(() => planEntries(conf([{ hostPort: 1, containerPort: 1 }]), {}, 'eth0')).toThrow(/no IP address for interface "eth0"/);
  });
});
