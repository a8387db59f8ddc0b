import { defineConfig } from 'vitest/config';

/** Run a second time with the workers down (CNI_TS_TEST_WORKERS=off): the fallback path, on a representative part. */
const FALLBACK = [
  'test/integration/conf-examples-cnitool.test.ts',
  'test/integration/bridge-vs-reference.test.ts',
  'test/integration/ptp-vs-reference.test.ts',
  'test/integration/crash.test.ts',
  'test/e2e/podman.test.ts',
];
const LAB = 'test/integration/kernel-lab.test.ts';
// the built executables, and the warm workers serving the machine's namespaces, for the tiers that exec them
const built = { globalSetup: ['test/helpers/build-once.ts'] };

export default defineConfig({
  test: {
    pool: 'forks',
    // no test reaches the machine's system bus, and so its firewalld (test/helpers/base-env.ts)
    env: { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/cni-ts-tests/no-system-bus' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      // unit and privileged tests of the modules (no build): `npx vitest run lib/ip` takes seconds
      { extends: true, test: { name: 'unit', include: ['{lib,plugins,ipam,tools}/**/*.test.ts'] } },
      // every plugin call through the warm workers (test/helpers/runtime-place.ts)
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [LAB], ...built } },
      { extends: true, test: { name: 'fallback', include: FALLBACK, env: { CNI_TS_TEST_WORKERS: 'off' }, ...built } },
      // the kernel lab (docs/development.md): its own qemu guest
      { extends: true, test: { name: 'lab', include: [LAB], ...built } },
    ],
  },
});
