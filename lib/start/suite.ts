import { join } from 'node:path';

/**
 * The suite's directory: bin/ (the launchers), dist/ (the bundles and the startup snapshot) and
 * node_modules/ (the native addons). A bundle finds it from its own path; a start from the snapshot
 * is told by the launcher, since the snapshot may have been built elsewhere, before installation.
 */
let root = join(__dirname, '..');

export const suiteRoot = (): string => root;

export function setSuiteRoot(dir: string): void {
  root = dir;
}

let fromSnapshot = false;

/** Whether this process was started from the startup snapshot (else from a bundle). */
export const startedFromSnapshot = (): boolean => fromSnapshot;

export function noteStartedFromSnapshot(): void {
  fromSnapshot = true;
}

let launcher: number | undefined;

/** The pid of the launcher (bin/<name>, a shell) that started this process from the snapshot; undefined from a bundle. */
export const launcherPid = (): number | undefined => launcher;

export function noteLauncherPid(pid: number): void {
  launcher = pid;
}
