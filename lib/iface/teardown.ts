import { CniError, ErrorCode } from '../errors';
import { log } from '../log';

/**
 * DEL's steps, best effort: every one is tried in order, a failure is logged and the next runs;
 * the failures are reported together at the end (code 110).
 */
export async function teardown(steps: Array<[what: string, step: () => unknown]>): Promise<void> {
  const failures: string[] = [];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (err) {
      log.warn(`DEL: ${what} failed`, { error: (err as Error).message });
      failures.push(`${what}: ${(err as Error).message}`);
    }
  }
  if (failures.length) throw new CniError(ErrorCode.LinkFailure, `DEL finished with errors: ${failures.join('; ')}`);
}
