import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileIfExists } from '../fs';

/**
 * /proc/sys access by path segments (interface names may contain dots, so "net.ipv6.conf.br.1"
 * would be ambiguous). Synchronous on purpose: inside withNetns it resolves in the container's
 * namespace; an async write would run on a thread-pool thread in the host's.
 */
export function sysctlPath(segments: string[]): string {
  return join('/proc/sys', ...segments);
}

export function readSysctl(segments: string[]): string | undefined {
  return readFileIfExists(sysctlPath(segments))?.trim();
}

/** Writes `value` when different; false when the key does not exist (e.g. IPv6 disabled). */
export function writeSysctl(segments: string[], value: string): boolean {
  const current = readSysctl(segments);
  if (current === undefined) return false;
  if (current !== value) writeFileSync(sysctlPath(segments), value);
  return true;
}
