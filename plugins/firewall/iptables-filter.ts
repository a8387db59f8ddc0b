import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { findExecutable, readFileIfExists } from '../../lib/fs';
import type { Family } from '../../lib/ip';
import { nftFamily, type NftRunner } from '../../lib/nft';
import type { HostFirewall } from './entries';

/** The iptables that `iptables-save` on PATH is (systemIptables runs it from PATH too): nft (xtables-nft-multi) or legacy; none when not installed. */
export type IptablesVariant = 'nft' | 'legacy' | 'none';

export function iptablesVariant(path: string | undefined): IptablesVariant {
  const save = findExecutable('iptables-save', (path ?? '').split(':').filter(Boolean));
  if (!save) return 'none';
  return basename(realpathSync(save)).includes('nft') ? 'nft' : 'legacy';
}

/**
 * Whether the host's iptables has a filter table (iptables-save then shows its built-in FORWARD chain),
 * read without starting iptables-save: that costs a process (~5 ms, and loading
 * node:child_process) on every firewall ADD and CHECK, most often to learn there is none.
 * iptables-nft keeps the table in nftables as `ip filter` / `ip6 filter`; iptables-legacy's
 * loaded tables are listed in /proc/net/ip{,6}_tables_names, per network namespace.
 */
export function iptablesFilter(variant: IptablesVariant, nft: NftRunner, procNet = '/proc/net'): Pick<HostFirewall, 'iptablesForward'> {
  const known = new Map<Family, boolean>();
  const lookUp = (family: Family): boolean => {
    if (variant === 'legacy') return (readFileIfExists(`${procNet}/ip${family === 4 ? '' : '6'}_tables_names`) ?? '').split('\n').includes('filter');
    if (variant === 'none') return false;
    return nft.list(`list tables ${nftFamily(family)}`).some((o) => (o as { table?: { family: string; name: string } }).table?.name === 'filter');
  };
  return {
    iptablesForward(family) {
      if (!known.has(family)) known.set(family, lookUp(family));
      return known.get(family)!;
    },
  };
}
