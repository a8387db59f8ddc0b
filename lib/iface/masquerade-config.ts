import { invalidField } from '../errors';
import { parsePrefix, type Prefix } from '../ip';

/**
 * The config's `nonMasqueradeCIDRs` (bridge and ptp, with ipMasq): destinations a container's
 * traffic reaches with its own address, e.g. a Kubernetes cluster's pod CIDR, so pods on other
 * nodes see the sender's pod address. The name is ip-masq-agent's; the reference plugins ignore the
 * field (and masquerade that traffic). Each entry a CIDR, IPv4 or IPv6.
 */
export function parseNonMasqueradeCIDRs(values: string[] | undefined): Prefix[] {
  return (values ?? []).map((value, i) => {
    const prefix = parsePrefix(value);
    if (!prefix) throw invalidField(`nonMasqueradeCIDRs[${i}]`, `${JSON.stringify(value)} is not a CIDR (e.g. "10.244.0.0/16")`);
    return prefix;
  });
}
