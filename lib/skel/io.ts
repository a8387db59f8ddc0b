import { readFileSync, writeSync } from 'node:fs';

/** Everything skel touches outside the process, injectable for unit tests. */
export interface PluginIO {
  env: Readonly<Record<string, string | undefined>>;
  readStdin(): Buffer;
  writeStdout(text: string): void;
  writeStderr(text: string): void;
}

export const processIO: PluginIO = {
  get env() {
    return process.env;
  },
  readStdin: () => readFileSync(0),
  writeStdout: (text) => writeAll(1, text),
  writeStderr: (text) => writeAll(2, text),
};

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
}
