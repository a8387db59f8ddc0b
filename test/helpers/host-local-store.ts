import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The addresses host-local holds for `network` in its store `dataDir`: one file per address, named by it. */
export const reservedAddresses = (dataDir: string, network: string): string[] => {
  const dir = join(dataDir, network);
  return existsSync(dir) ? readdirSync(dir).filter((f) => /^[0-9a-f.:]+$/.test(f)) : [];
};
