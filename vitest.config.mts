import { defineConfig } from 'vitest/config';

/** Run a second time with the workers down (CNI_TS_TEST_WORKERS=off): the fallback path, on a representative part. */
const FALLBACK = [
  'test/integration/conf-examples-cnitool.test.ts',
  'test/integration/bridge-vs-reference.test.ts',
  'test/integration/ptp-vs-reference.test.ts',
  'test/integration/crash.test.ts',
  'test/e2e/podman.test.ts',
];

export default defineConfig({
  test: {
    // integration tests exec the built bin/ executables: build once first, and start the warm workers
    globalSetup: ['test/helpers/build-once.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      // every plugin call through the warm workers (test/helpers/runtime-place.ts)
      { extends: true, test: { name: 'workers', include: ['{lib,plugins,ipam,tools,test}/**/*.test.ts'] } },
      { extends: true, test: { name: 'fallback', include: FALLBACK, env: { CNI_TS_TEST_WORKERS: 'off' } } },
    ],
  },
});
