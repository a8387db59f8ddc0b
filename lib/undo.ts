import { log } from './log';

/**
 * What an ADD has created so far, unwound in reverse order when a later step fails, so a failed
 * ADD leaves nothing behind. Every undo step runs even when an earlier one fails.
 */
export class UndoStack {
  private readonly steps: Array<{ what: string; undo: () => unknown }> = [];

  push(what: string, undo: () => unknown): void {
    this.steps.push({ what, undo });
  }

  async unwind(): Promise<void> {
    while (this.steps.length) {
      const { what, undo } = this.steps.pop()!;
      try {
        await undo();
      } catch (err) {
        log.error(`rollback: cannot undo ${what}`, { error: (err as Error).message });
      }
    }
  }

  /** Runs `fn`; on any error unwinds what was pushed, then rethrows. */
  async run<T>(fn: (undo: UndoStack) => Promise<T>): Promise<T> {
    try {
      return await fn(this);
    } catch (err) {
      await this.unwind();
      throw err;
    }
  }
}
