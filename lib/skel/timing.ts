import { appendFileSync } from 'node:fs';
import { callOriginMs, startMode } from '../start/suite';
import type { PluginIO } from './io';

export interface Timing {
  verbStarts(): void;
  verbEnds(): void;
  report(): void;
}

/**
 * CNI_TS_TIMING=1: one JSON line on stderr (CNI_TS_TIMING=<absolute path>: appended to that
 * file) with the milliseconds since the process (a warm worker: the call) started at which the
 * plugin's code began and ended, how long the verb itself took (its kernel and disk work with the
 * JavaScript driving it) and the peak resident memory, so a benchmark can tell start-up from work.
 */
export function startTiming(io: PluginIO, target: string): Timing {
  // process.uptime, not performance.now: that would load node:perf_hooks (a millisecond) just to measure
  const now = () => process.uptime() * 1000 - callOriginMs();
  const started = now();
  let verbStarted: number | undefined;
  let verbMs: number | undefined;
  return {
    verbStarts: () => void (verbStarted = now()),
    verbEnds: () => void (verbMs = verbStarted === undefined ? undefined : now() - verbStarted),
    report: () => {
      const timing = {
        startedFrom: startMode(),
        pluginStartMs: started,
        verbMs,
        endMs: now(),
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
      };
      const line = `${JSON.stringify({ timing })}\n`;
      if (target.startsWith('/')) appendFileSync(target, line);
      else io.writeStderr(line);
    },
  };
}
