import { parseDecimal } from '../ip';

/** The spec versions every plugin of this suite speaks (issue #2; 0.1.0/0.2.0 results are not produced). */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const CURRENT_VERSION = '1.1.0';

// by hand, not with a regular expression: see lib/start/warm-up.ts
export function parseVersion(version: string): [number, number, number] | undefined {
  const numbers = version.split('.').map((part) => parseDecimal(part, Number.POSITIVE_INFINITY));
  if (numbers.length !== 3 || numbers.some((n) => n === undefined)) return undefined;
  return numbers as [number, number, number];
}

export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a) ?? [0, 0, 0];
  const pb = parseVersion(b) ?? [0, 0, 0];
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

export const versionAtLeast = (version: string, minimum: string): boolean => compareVersions(version, minimum) >= 0;

export const isSupportedVersion = (version: string): boolean => (SUPPORTED_VERSIONS as readonly string[]).includes(version);

/** 0.3.x and 0.4.0 results carry ips[].version; 1.0.0 removed it. */
export const isLegacyResultVersion = (version: string): boolean => !versionAtLeast(version, '1.0.0');
