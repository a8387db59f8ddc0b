/** Privileged and integration tests need root (namespaces, netlink, flock in /run); say so plainly. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('this test needs root: run the suite as root (see README)');
}
