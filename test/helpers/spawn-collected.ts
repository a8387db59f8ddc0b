import { type ChildProcess, spawn } from 'node:child_process';

export interface PluginOutcome {
  code: number;
  /** The signal that ended the plugin, if one did. */
  signal?: NodeJS.Signals;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is JSON. */
  json: any;
}

/** Spawns `command` with `env` and `stdin`, collecting its output. */
export function spawnCollected(command: string[], env: Record<string, string>, stdin: string): { done: Promise<PluginOutcome>; child: ChildProcess } {
  const child = spawn(command[0], command.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(stdin);
  const done = new Promise<PluginOutcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      let json: unknown;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, ...(signal ? { signal } : {}), stdout, stderr, json });
    });
  });
  return { done, child };
}
