import { invalidField } from '../errors';
import { log } from '../log';

/**
 * The reference's choice of firewall backend (portmap `backend`, bridge and ptp `ipMasqBackend`):
 * "iptables" or "nftables". This suite programs nftables either way, in its own table, which
 * coexists with iptables-nft and gives the traffic the same treatment, so both are accepted (the
 * other is logged); anything else is refused naming the field.
 */
export function acceptBackendField(field: string, value: string | undefined, what: string): void {
  if (value === undefined || value === '' || value === 'nftables') return;
  if (value === 'iptables') {
    log.info(`${field} "iptables": ${what} is done with nftables rules (table inet cni_ts), which coexist with iptables-nft`);
    return;
  }
  throw invalidField(field, `${JSON.stringify(value)} is not a backend: expected "nftables" or "iptables"`);
}
