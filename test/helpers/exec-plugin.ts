import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const BIN_DIR = join(__dirname, '..', '..', 'bin');

export interface PluginInvocation {
  command?: string;
  containerId?: string;
  netns?: string;
  ifname?: string;
  cniArgs?: string;
  path?: string;
  /** Extra or overriding variables; undefined removes one. */
  env?: Record<string, string | undefined>;
  stdin?: string | object;
  /** Run the plugin inside this named netns (the test's "host"), as `ip netns exec` does. */
  inNetns?: string;
  /** SIGKILL the plugin this long after it started, as a runtime's timeout does. */
  killAfterMs?: number;
}

export interface PluginOutcome {
  code: number;
  /** The signal that ended the plugin, if one did. */
  signal?: NodeJS.Signals;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is JSON. */
  json: any;
}

/** Execs a plugin exactly as a runtime does: a fresh process, CNI_* env, config on stdin. */
export function execPlugin(executable: string, inv: PluginInvocation): Promise<PluginOutcome> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined) env[key] = value;
  };
  set('CNI_COMMAND', inv.command);
  set('CNI_CONTAINERID', inv.containerId);
  set('CNI_NETNS', inv.netns);
  set('CNI_IFNAME', inv.ifname);
  set('CNI_ARGS', inv.cniArgs);
  set('CNI_PATH', inv.path ?? BIN_DIR);
  for (const [key, value] of Object.entries(inv.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const stdin = typeof inv.stdin === 'string' ? inv.stdin : JSON.stringify(inv.stdin ?? {});
  const path = executable.includes('/') ? executable : join(BIN_DIR, executable);
  return new Promise((resolve, reject) => {
    const [file, args] = inv.inNetns ? ['ip', ['netns', 'exec', inv.inNetns, path]] : [path, []];
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const killer = inv.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), inv.killAfterMs);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (killer) clearTimeout(killer);
      let json: unknown;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, ...(signal ? { signal } : {}), stdout, stderr, json });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

/**
 * A CNI 1.1 GC of `conf` (sent as cniVersion 1.1.0) that names the containers, on eth0, still in
 * use; `inv` adds the netns to run in and the environment.
 */
export function execGc(executable: string, conf: object, validContainerIds: string[], inv: Pick<PluginInvocation, 'inNetns' | 'env'> = {}): Promise<PluginOutcome> {
  const valid = validContainerIds.map((containerID) => ({ containerID, ifname: 'eth0' }));
  return execPlugin(executable, { ...inv, command: 'GC', stdin: { ...conf, cniVersion: '1.1.0', 'cni.dev/valid-attachments': valid } });
}
