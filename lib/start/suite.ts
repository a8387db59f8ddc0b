import { join } from 'node:path';

/**
 * The suite's directory: bin/ (the clients and launchers), dist/ (the bundles) and node_modules/
 * (the native addons). A bundle finds it from its own path.
 */
const root = join(__dirname, '..');

export const suiteRoot = (): string => root;

/** How this process started: from its bundle, or as a warm worker (lib/workers). */
export type StartMode = 'bundle' | 'worker';
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
