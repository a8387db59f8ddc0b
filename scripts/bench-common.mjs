// What the benchmark scripts share.

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The CNI_TS_TIMING line a plugin of ours printed on stderr (lib/skel/run.ts), parsed; undefined for the reference's. */
export function timingOf(stderr) {
  const line = stderr.split('\n').find((l) => l.startsWith('{"timing"'));
  return line ? JSON.parse(line).timing : undefined;
}
