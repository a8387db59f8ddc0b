import { join } from 'node:path';
import { requireWorker, runtimePlace, timingFile } from './runtime-place';

import { BIN_DIR } from './paths';
import { type PluginOutcome, spawnCollected } from './spawn-collected';
import { baseEnv } from './base-env';

export { BIN_DIR, type PluginOutcome };

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

/** Execs a plugin exactly as a runtime does: a fresh exec, CNI_* env, config on stdin; through the warm workers unless the suite runs without them. */
export async function execPlugin(executable: string, inv: PluginInvocation): Promise<PluginOutcome> {
  const place = runtimePlace(inv.inNetns);
  const env: Record<string, string> = { ...baseEnv(), ...place.env };
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined) env[key] = value;
  };
  set('CNI_COMMAND', inv.command);
  set('CNI_CONTAINERID', inv.containerId);
  set('CNI_NETNS', inv.netns);
  set('CNI_IFNAME', inv.ifname);
  set('CNI_ARGS', inv.cniArgs);
  set('CNI_PATH', inv.path ?? BIN_DIR);
  const timing = place.workers && !inv.env?.CNI_TS_TIMING ? timingFile() : undefined;
  if (timing) env.CNI_TS_TIMING = timing;
  for (const [key, value] of Object.entries(inv.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const stdin = typeof inv.stdin === 'string' ? inv.stdin : JSON.stringify(inv.stdin ?? {});
  const path = executable.includes('/') ? executable : join(BIN_DIR, executable);
  const { done, child } = spawnCollected([...place.prefix, path], env, stdin);
  const killer = inv.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), inv.killAfterMs);
  const outcome = await done;
  if (killer) clearTimeout(killer);
  if (timing) requireWorker(path, env, timing, outcome);
  return outcome;
}

/**
 * A CNI 1.1 GC of `conf` (sent as cniVersion 1.1.0) that names the containers, on eth0, still in
 * use; `inv` adds the netns to run in and the environment.
 */
export function execGc(executable: string, conf: object, validContainerIds: string[], inv: Pick<PluginInvocation, 'inNetns' | 'env'> = {}): Promise<PluginOutcome> {
  const valid = validContainerIds.map((containerID) => ({ containerID, ifname: 'eth0' }));
  return execPlugin(executable, { ...inv, command: 'GC', stdin: { ...conf, cniVersion: '1.1.0', 'cni.dev/valid-attachments': valid } });
}
