import type { Clock, TimerHandle } from '../../ipam/dhcp/clock';

const MAX_TIMERS_PER_ADVANCE = 10_000;

interface Pending {
  at: number;
  fn: () => void;
}

/**
 * A Clock that moves only when told: `advance` runs the timers that come due, earliest first, each
 * at its own time, and lets the promises they start settle before the next, so a unit test sees
 * hours of timers in microseconds.
 */
export class FakeClock implements Clock {
  private time: number;
  private readonly pending = new Set<Pending>();
  /** Every delay asked of setTimeout, in order. */
  readonly delays: number[] = [];

  constructor(start = 1_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Pending = { at: this.time + Math.max(0, ms), fn };
    this.delays.push(ms);
    this.pending.add(timer);
    return timer;
  }

  clearTimeout(timer: TimerHandle): void {
    this.pending.delete(timer as Pending);
  }

  /** When the earliest pending timer is due, if any is pending. */
  get nextDue(): number | undefined {
    const due = [...this.pending].map((t) => t.at);
    return due.length ? Math.min(...due) : undefined;
  }

  /** Moves `ms` on, running each timer due by then at its time. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.time + ms);
  }

  /** Moves on to `end`; throws when more than MAX_TIMERS_PER_ADVANCE timers come due on the way (one that keeps rescheduling itself). */
  async advanceTo(end: number): Promise<void> {
    for (let run = 0; ; run++) {
      if (run > MAX_TIMERS_PER_ADVANCE) throw new Error(`more than ${MAX_TIMERS_PER_ADVANCE} timers came due by ${end}: a timer that keeps rescheduling itself?`);
      await settle();
      const next = [...this.pending].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.pending.delete(next);
      this.time = next.at;
      next.fn();
    }
    this.time = Math.max(this.time, end);
    await settle();
  }
}

/** Lets every promise that waits only on other promises (no real I/O or timer) settle. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
