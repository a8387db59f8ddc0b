import { checkCreatedLink } from '../../lib/iface/link-plugin';
import { vlanIdOf } from '../../lib/netlink/vlan';
import type { CmdArgs } from '../../lib/skel';
import { parseConfig } from './config';

/**
 * The reference's CHECK (a vlan with the configured id, and MTU when one is configured, with
 * prevResult's MAC, addresses and routes; the master exists), and that it sits on that master
 * (the reference's own test of that is commented out).
 */
export async function check(cmd: CmdArgs): Promise<void> {
  const conf = parseConfig(cmd);
  await checkCreatedLink(cmd, {
    ipamType: conf.ipamType,
    kind: 'vlan',
    master: conf,
    inspect: (link) => {
      const id = vlanIdOf(link.infoData);
      if (id !== conf.vlanId) return `has VLAN id ${id ?? 'unknown'}, not ${conf.vlanId}`;
      if (conf.mtu !== undefined && link.mtu !== conf.mtu) return `has MTU ${link.mtu}, not ${conf.mtu}`;
      return undefined;
    },
  });
}
