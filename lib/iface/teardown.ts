import { CniError } from '../errors';
import { log } from '../log';
import { toCniError } from '../skel/translate';

/**
 * DEL's steps, best effort: every one is tried in order, a failure is logged and the next runs;
 * the failures are reported together at the end, with the first failed step's own code (120 for
 * IPAM, 130 for nftables, 110 for a link, ...).
 */
export async function teardown(steps: Array<[what: string, step: () => unknown]>): Promise<void> {
  const failures: Array<{ what: string; error: CniError }> = [];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (err) {
      const { error } = toCniError(err);
      log.warn(`DEL: ${what} failed`, { error: error.message });
      failures.push({ what, error });
    }
  }
  if (failures.length) {
    throw new CniError(failures[0].error.code, `DEL finished with errors: ${failures.map(({ what, error }) => `${what}: ${error.message}`).join('; ')}`);
  }
}
