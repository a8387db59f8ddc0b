import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The built executables runtimes exec (bin/ of this checkout). */
export const BIN_DIR = join(__dirname, '..', '..', 'bin');

/** The executable `name` in the test process's PATH (a plugin call may be given another PATH). */
export function which(name: string): string {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} is not in PATH`);
}
