import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { CniError, ErrorCode } from '../errors';
import { findExecutable } from '../fs';
import { childProcess } from '../start/builtins';
import { type DelegateVerbs, inProcessLoader } from './in-process';
import { suiteRoot } from '../start/suite';
import type { CallArgs, CmdArgs, DelArgs } from '../skel';
import { log } from '../log';
import { Result, lenientString, parseWith, resultFromAnyVersion } from '../types';

export type DelegateCommand = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC';

/** The executable for plugin `type` in the CNI_PATH directories, as libcni's FindInPath does. */
export function findPlugin(type: string, path: string[]): string {
  if (!type || type.includes('/') || type.includes('\\') || type === '.' || type === '..') {
    throw new CniError(ErrorCode.InvalidNetworkConfig, `invalid plugin type ${JSON.stringify(type)}: it must be a plain executable name`);
  }
  const found = findExecutable(type, path);
  if (found) return found;
  throw new CniError(ErrorCode.InvalidNetworkConfig, `failed to find plugin ${JSON.stringify(type)} in path [${path.join(' ')}]`);
}

/** Answers of isBuiltAlongside: an ADD asks twice (checkDelegate, then delegate), each two realpaths. */
const builtAlongside = new Map<string, boolean>();

/** Forgets those answers: a warm worker starts each call as a fresh process would (an executable may have been replaced). */
export function forgetDelegates(): void {
  builtAlongside.clear();
}

function isBuiltAlongside(executable: string, type: string): boolean {
  const key = `${type}\0${executable}`;
  let answer = builtAlongside.get(key);
  if (answer === undefined) {
    try {
      answer = realpathSync(executable) === realpathSync(join(suiteRoot(), 'bin', type));
    } catch {
      answer = false;
    }
    builtAlongside.set(key, answer);
  }
  return answer;
}

/** The delegate's verbs when it can run in this process (see registerInProcessDelegates). */
async function inProcessVerbs(type: string, executable: string, cmd: CallArgs): Promise<DelegateVerbs | undefined> {
  const local = inProcessLoader(type);
  if (!local || cmd.env.CNI_TS_DELEGATE === 'exec' || !isBuiltAlongside(executable, type)) return undefined;
  return local();
}

/**
 * What an ADD checks before it touches the kernel: the delegate exists in CNI_PATH and, when it
 * runs in-process, accepts its config. (An exec'ed delegate has no way to be asked.)
 */
export async function checkDelegate(type: string, cmd: CmdArgs): Promise<void> {
  const verbs = await inProcessVerbs(type, findPlugin(type, cmd.path), cmd);
  verbs?.validate?.({ ...cmd, command: 'ADD' });
}

/**
 * Runs a delegate plugin (IPAM) the way the spec asks: same environment but CNI_COMMAND, the
 * complete network config on stdin, its stderr passed through. Returns its result on ADD.
 */
export async function delegate(type: string, command: 'DEL', cmd: DelArgs): Promise<undefined>;
export async function delegate(type: string, command: Exclude<DelegateCommand, 'DEL'>, cmd: CmdArgs): Promise<Result | undefined>;
export async function delegate(type: string, command: DelegateCommand, cmd: CallArgs): Promise<Result | undefined> {
  const executable = findPlugin(type, cmd.path);
  const verbs = await inProcessVerbs(type, executable, cmd);
  if (verbs) {
    if (command === 'DEL') {
      await verbs.del?.({ ...cmd, command });
      return undefined;
    }
    const delegated: CmdArgs = { ...cmd, command };
    if (command === 'ADD') return verbs.add!(delegated);
    await { CHECK: verbs.check, STATUS: verbs.status, GC: verbs.gc }[command]?.(delegated);
    return undefined;
  }
  const { code, stdout } = await execPlugin(executable, { ...cmd.env, CNI_COMMAND: command }, cmd.stdin);
  if (code !== 0) throw delegateError(type, stdout);
  if (command !== 'ADD') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new CniError(ErrorCode.DelegateFailure, `delegate ${JSON.stringify(type)} printed a result that is not JSON: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  return resultFromAnyVersion(parseWith(Result, parsed, `result of delegate ${JSON.stringify(type)}`, ErrorCode.DelegateFailure));
}

/**
 * DEL of the config's IPAM plugin, if any. A type that no ADD could have run (not a plain name,
 * or no such plugin in CNI_PATH) had nothing reserved: logged and skipped, so the DEL succeeds.
 */
export async function delegateDel(cmd: DelArgs): Promise<void> {
  const type = lenientString(cmd.config, 'ipam', 'type');
  if (!type) return;
  try {
    findPlugin(type, cmd.path);
  } catch (err) {
    log.warn('DEL: skipping the IPAM plugin, which cannot have run', { error: (err as Error).message });
    return;
  }
  await delegate(type, 'DEL', cmd);
}

/** The CNI error a plugin printed, or a DelegateFailure when it printed none. */
export function delegateError(type: string, stdout: string): CniError {
  try {
    const err = JSON.parse(stdout) as { code?: unknown; msg?: unknown; details?: unknown };
    if (typeof err.code === 'number' && typeof err.msg === 'string') {
      return new CniError(err.code, err.msg, typeof err.details === 'string' ? err.details : '');
    }
  } catch {
    // fall through: not a CNI error object
  }
  return new CniError(ErrorCode.DelegateFailure, `delegate ${JSON.stringify(type)} failed without a CNI error: ${JSON.stringify(stdout.slice(0, 200))}`);
}

/** Execs a plugin: env, config on stdin, its stderr passed through; resolves with exit code and stdout. */
export function execPlugin(executable: string, env: NodeJS.ProcessEnv, stdin: Buffer): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(executable, [], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (err) => reject(new CniError(ErrorCode.DelegateFailure, `cannot run ${JSON.stringify(executable)}: ${err.message}`)));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(chunks).toString('utf8') }));
    child.stdin.on('error', () => undefined); // a delegate may exit before reading stdin
    child.stdin.end(stdin);
  });
}
