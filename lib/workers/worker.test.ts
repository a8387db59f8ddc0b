import { describe, expect, it } from 'vitest';
import { leftBehind } from './worker';

describe('leftBehind', () => {
  it('names what a call left pending beyond the idle worker’s own resources, repeats counted', () => {
    expect(leftBehind(['PipeWrap'], ['PipeWrap'])).toEqual([]);
    expect(leftBehind(['PipeWrap'], ['PipeWrap', 'Timeout'])).toEqual(['Timeout']);
    expect(leftBehind(['Timeout'], ['Timeout', 'Timeout'])).toEqual(['Timeout']);
    expect(leftBehind(['Timeout', 'PipeWrap'], [])).toEqual([]);
  });
});
