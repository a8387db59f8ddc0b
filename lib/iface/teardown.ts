import { throwFailures, tryEach } from '../best-effort';

/**
 * DEL's steps, best effort: every one is tried in order, a failure is logged and the next runs;
 * the failures are reported together at the end, with the first failed step's own code (IPAM's,
 * or 120; 130 for nftables; 110 for a link; ...).
 */
export async function teardown(steps: Array<[what: string, step: () => unknown]>): Promise<void> {
  throwFailures('DEL finished with errors', await tryEach(steps, 'DEL: '));
}
