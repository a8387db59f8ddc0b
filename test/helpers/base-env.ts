/**
 * The environment every command a test runs starts from. vitest.config.mts points
 * DBUS_SYSTEM_BUS_ADDRESS at a path where nothing listens, for the tests and what inherits their
 * environment (Podman, scripts): a firewall call with the default backend would otherwise put
 * test addresses into the machine's firewalld. A test that wants firewalld passes its own bus.
 */
export const baseEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
  DBUS_SYSTEM_BUS_ADDRESS: process.env.DBUS_SYSTEM_BUS_ADDRESS ?? 'unix:path=/nonexistent/cni-ts-tests/no-system-bus',
});
