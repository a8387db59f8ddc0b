/**
 * A small deterministic PRNG (mulberry32): tests that draw random cases print their seed, and
 * CNI_TS_TEST_SEED=<seed> replays the same cases.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed to use: CNI_TS_TEST_SEED, else `fallback` (fixed, so CI runs are reproducible). */
export const testSeed = (fallback: number): number => {
  const value = Number(process.env.CNI_TS_TEST_SEED);
  return Number.isInteger(value) ? value : fallback;
};
