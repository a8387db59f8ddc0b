import { childProcess } from '../../lib/start/builtins';
import { CniError, ErrorCode } from '../../lib/errors';
import type { Family } from '../../lib/ip';

/**
 * iptables-save and iptables-restore of the host's iptables (nft or legacy variant, whichever
 * the system selected). The filter table belongs to iptables, so it is written through
 * iptables itself, never through libnftables.
 */
export interface Iptables {
  /** The saved ruleset; undefined when iptables is not installed. */
  save(family: Family): string | undefined;
  restore(family: Family, script: string): void;
}

const tool = (family: Family, what: 'save' | 'restore') => `${family === 4 ? 'iptables' : 'ip6tables'}-${what}`;

export const systemIptables: Iptables = {
  save(family) {
    const r = childProcess().spawnSync(tool(family, 'save'), [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
    if (r.error || r.status !== 0) throw failure(tool(family, 'save'), r.error?.message ?? r.stderr);
    return r.stdout;
  },
  restore(family, script) {
    const r = childProcess().spawnSync(tool(family, 'restore'), ['-w', '10', '--noflush'], { encoding: 'utf8', input: script, stdio: ['pipe', 'pipe', 'pipe'] });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new CniError(ErrorCode.PluginNotAvailable, `${tool(family, 'restore')} is not installed: the iptables FORWARD rules cannot be written`);
    }
    if (r.error || r.status !== 0) throw failure(tool(family, 'restore'), `${r.error?.message ?? r.stderr.trim()} (input: ${JSON.stringify(script)})`);
  },
};

const failure = (command: string, why: string) => new CniError(ErrorCode.FirewallFailure, `${command} failed: ${why.trim()}`);
