import { join } from 'node:path';

/** The built executables runtimes exec (bin/ of this checkout). */
export const BIN_DIR = join(__dirname, '..', '..', 'bin');
