/** The spec versions every plugin of this suite speaks (0.1.0/0.2.0 results are not produced). */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const CURRENT_VERSION = '1.1.0';

export function parseVersion(version: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
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
