import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFileIfExists, readdirIfExists, unlinkIfExists, writeFileAtomic } from '../../lib/fs';
import { clientFileStem } from './store';

/**
 * A DEL that cannot reach the daemon (stopped, restarting) must still succeed, or the runtime
 * could not remove the container. It leaves a marker beside the daemon's socket instead, naming
 * the lease's client id; the daemon releases those leases when it starts, so it never renews a
 * lease for a container that is gone.
 */
const dirOf = (socketPath: string): string => `${socketPath}.released`;

export function markReleased(socketPath: string, clientId: string): void {
  const dir = dirOf(socketPath);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(dir, clientFileStem(clientId)), clientId);
}

/** The markers left for the daemon at `socketPath`: each client id with the way to remove its marker. */
export function releasedMarkers(socketPath: string): Array<{ clientId: string; remove(): void }> {
  const dir = dirOf(socketPath);
  return readdirIfExists(dir).flatMap((name) => {
    const path = join(dir, name);
    const clientId = readFileIfExists(path);
    if (!clientId) {
      unlinkIfExists(path); // a temporary, or a marker a power cut emptied: nothing to release by it
      return [];
    }
    return [{ clientId, remove: () => unlinkIfExists(path) }];
  });
}
