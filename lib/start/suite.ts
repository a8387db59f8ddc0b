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

/** How this process started: from a bundle, from the startup snapshot, or as a warm worker (lib/workers). */
export type StartMode = 'bundle' | 'snapshot' | 'worker';
let mode: StartMode = 'bundle';

export const startMode = (): StartMode => mode;

let origin = 0;

export function noteStartMode(how: StartMode): void {
  mode = how;
  // a worker's call starts when it arrives, not when the worker's process did
  if (how === 'worker') origin = process.uptime() * 1000;
}

/** Milliseconds since the process started at which this call started: 0, or a worker's call's arrival. */
export const callOriginMs = (): number => origin;

let launcher: number | undefined;

/** The pid of the launcher (bin/<name>, a shell) that started this process from the snapshot; undefined from a bundle. */
export const launcherPid = (): number | undefined => launcher;

export function noteLauncherPid(pid: number): void {
  launcher = pid;
}
