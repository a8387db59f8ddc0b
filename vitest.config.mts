import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{lib,plugins,ipam,tools,test}/**/*.test.ts'],
    // integration tests exec the bundled bin/ executables, so build them once first
    globalSetup: ['test/helpers/build-once.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
