const LAUNCHER_FLAG = '--cni-ts-launcher=';

/**
 * A bundle started by its launcher (launch/<name> or bin/<tool>) gets the path the runtime ran
 * as its first argument; it takes that path's place as process.argv[1], since the tools look for
 * plugins beside it. A bundle run by hand is left alone.
 */
export function adoptLauncherPath(): void {
  const first = process.argv[2];
  if (first?.startsWith(LAUNCHER_FLAG)) process.argv.splice(1, 2, first.slice(LAUNCHER_FLAG.length));
}
