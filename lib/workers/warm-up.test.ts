import { describe, expect, it } from 'vitest';
import { warmUp } from './warm-up';

describe("the warm worker's warm-up", () => {
  // a worker awaits it before its first call: one that threw or never settled would leave no worker
  it('runs the protocol and netlink paths to the end without a kernel', async () => {
    await expect(warmUp()).resolves.toBeUndefined();
  });
});
