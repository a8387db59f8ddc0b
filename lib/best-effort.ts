import { CniError } from './errors';
import { log } from './log';
import { toCniError } from './skel/translate';

export interface StepFailure {
  what: string;
  error: CniError;
}

/**
 * Runs every step in order whatever the others do (DEL's teardown, GC's removals): a failure is
 * logged, as its translation's CNI error (a bug with its stack), and the next step runs.
 */
export async function tryEach(steps: Iterable<[what: string, step: () => unknown]>, logPrefix = ''): Promise<StepFailure[]> {
  const failures: StepFailure[] = [];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (err) {
      const { error, isBug } = toCniError(err);
      if (isBug) log.error(`${logPrefix}${what} failed unexpectedly`, { stack: (err as Error)?.stack ?? String(err) });
      else log.warn(`${logPrefix}${what} failed`, { error: error.message });
      failures.push({ what, error });
    }
  }
  return failures;
}

/** The failures as one error, `summary: what: why; ...`, with the first failure's own code. */
export function throwFailures(summary: string, failures: StepFailure[]): void {
  if (!failures.length) return;
  throw new CniError(failures[0].error.code, `${summary}: ${failures.map(({ what, error }) => `${what}: ${error.message}`).join('; ')}`);
}
