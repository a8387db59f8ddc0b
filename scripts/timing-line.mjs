/**
 * The CNI_TS_TIMING line a plugin of ours wrote (lib/skel/timing.ts), parsed: the last whole one in
 * `text` (stderr, or a timing file a killed call may have left half-written); undefined when
 * there is none (the reference's plugins write none). The tests and the benchmarks read it here.
 */
export function timingOf(text) {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{"timing"'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line).timing];
      } catch {
        return [];
      }
    })
    .at(-1);
}
