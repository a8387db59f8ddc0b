import type { PluginIO } from '../../lib/skel/io';

/** A PluginIO that records what the plugin wrote, for unit tests of skel and verbs. */
export function fakeIO(env: Record<string, string | undefined>, stdin: string | Buffer | Error = ''): PluginIO & { stdout: string; stderr: string } {
  const io = {
    env,
    stdout: '',
    stderr: '',
    readStdin: () => {
      if (stdin instanceof Error) throw stdin;
      return Buffer.isBuffer(stdin) ? stdin : Buffer.from(stdin);
    },
    writeStdout: (text: string) => void (io.stdout += text),
    writeStderr: (text: string) => void (io.stderr += text),
  };
  return io;
}
