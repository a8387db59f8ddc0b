// What the benchmark scripts share.

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export { timingOf } from './timing-line.mjs';
