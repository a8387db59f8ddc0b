import { startupSnapshot } from 'node:v8';
import { PR_SET_PDEATHSIG, libc } from '../ffi/libc';
import { noteLauncherPid, noteStartMode, setSuiteRoot } from './suite';
import { warmUp } from './warm-up';

/** Every executable of the suite: its name (the bin/ name) and its main, which returns the exit code. */
export type Mains = Record<string, () => Promise<number>>;

const SIGKILL = 9;

/**
 * The entry of the suite's V8 startup snapshots (scripts/build.mjs builds one per group of
 * executables, their code already compiled and initialised). The launcher runs
 *   node --snapshot-blob dist/suite-<group>.blob <suite dir> <launcher pid> <name> <launcher path> [args...]
 * and this picks the executable by name, with process.argv[1] the launcher's path as the runtime
 * invoked it (the tools look for plugins beside it).
 */
export async function startFromSnapshot(mains: Mains): Promise<void> {
  await warmUp();
  startupSnapshot.setDeserializeMainFunction(() => {
    const [node, root, launcherPid, name, launcherPath, ...args] = process.argv;
    const main = mains[name];
    if (!main) {
      process.stderr.write(`cni-ts: the startup snapshot has no executable named ${JSON.stringify(name)}\n`);
      process.exit(2);
    }
    setSuiteRoot(root);
    noteStartMode('snapshot');
    noteLauncherPid(Number(launcherPid));
    process.argv = [node, launcherPath, ...args];
    if (process.env.CNI_COMMAND && process.env.CNI_COMMAND !== 'VERSION') dieWithLauncher(Number(launcherPid));
    main().then((code) => process.exit(code));
  });
}

/**
 * The launcher (a shell, which must outlive a failed snapshot start to fall back) is the process
 * the runtime knows; when a runtime's timeout kills it, this process must die too, or an ADD
 * would go on after the runtime gave up on it (and ran its DEL).
 */
function dieWithLauncher(launcherPid: number): void {
  const c = libc();
  c.prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (c.getppid() !== launcherPid) process.exit(1);
}
