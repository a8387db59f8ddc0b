import { describe, expect, it } from 'vitest';
import { warmUp } from './warm-up';

describe('the startup snapshot warm-up', () => {
  // the build awaits it: one that threw or never settled would break or hang every build
  it('runs the protocol and netlink paths to the end without a kernel', async () => {
    await expect(warmUp()).resolves.toBeUndefined();
  });
});
