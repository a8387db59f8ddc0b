/**
 * Waits until `check` holds, polling every 50 ms; fails naming `what` (and `process`'s output,
 * when given) after `timeoutMs`. A check that throws has not held yet.
 */
export async function until(what: string, check: () => boolean, timeoutMs = 15_000, process?: { output(): string }): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!holds(check)) {
    if (Date.now() > end) throw timedOut(what, timeoutMs, process);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** until, blocking the thread between polls: for synchronous callers. */
export function untilSync(what: string, check: () => boolean, timeoutMs = 15_000): void {
  const end = Date.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (!holds(check)) {
    if (Date.now() > end) throw timedOut(what, timeoutMs);
    Atomics.wait(sleeper, 0, 0, 50);
  }
}

function holds(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

const timedOut = (what: string, timeoutMs: number, process?: { output(): string }) =>
  new Error(`timed out after ${timeoutMs} ms waiting for ${what}${process ? `; output:\n${process.output()}` : ''}`);
