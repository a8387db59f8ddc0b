import { execFileSync } from 'node:child_process';
import type { TestNetns } from './netns';

/** Addresses of the test's "uplink" between the host netns and the outside world netns (documentation ranges). */
export const UPLINK = { host4: '198.51.100.1', outside4: '198.51.100.2', host6: '2001:db8:ff::1', outside6: '2001:db8:ff::2' };

const ip = (...args: string[]) => execFileSync('ip', args);

/**
 * A node for integration tests: `host` plays the machine the plugins run on, `outside` the rest of
 * the world behind a veth uplink. `outside` has no route to container subnets, so a reply reaches a
 * container only when the host masquerades.
 */
export function makeNode(make: (label: string) => TestNetns): { host: TestNetns; outside: TestNetns } {
  const host = make('host');
  const outside = make('out');
  ip('-n', host.name, 'link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'uplink1', 'netns', outside.name);
  ip('-n', host.name, 'addr', 'add', `${UPLINK.host4}/24`, 'dev', 'uplink0');
  ip('-n', outside.name, 'addr', 'add', `${UPLINK.outside4}/24`, 'dev', 'uplink1');
  ip('-n', host.name, 'addr', 'add', `${UPLINK.host6}/64`, 'dev', 'uplink0', 'nodad');
  ip('-n', outside.name, 'addr', 'add', `${UPLINK.outside6}/64`, 'dev', 'uplink1', 'nodad');
  for (const [ns, dev] of [
    [host, 'uplink0'],
    [outside, 'uplink1'],
    [host, 'lo'],
    [outside, 'lo'],
  ] as const)
    ip('-n', ns.name, 'link', 'set', dev, 'up');
  return { host, outside };
}

/** True when one ping from `from` to `target` is answered within 2 s. */
export function pings(from: TestNetns, target: string): boolean {
  try {
    from.exec('ping', ['-c1', '-W2', target]);
    return true;
  } catch {
    return false;
  }
}
