import { readFileSync } from 'node:fs';
import { CniError, ErrorCode, isNodeErrorCode } from '../../lib/errors';

/** Where the host's sysctl allowlist lives, as in the reference; CNI_TS_TUNING_ALLOWLIST names another file (tests). */
export const DEFAULT_ALLOWLIST = '/etc/cni/tuning/allowlist.conf';

export const allowlistPath = (env: Readonly<Record<string, string | undefined>>): string => env.CNI_TS_TUNING_ALLOWLIST || DEFAULT_ALLOWLIST;

/**
 * The allowlist's patterns, one regular expression a line (blank lines skipped, the rest trimmed),
 * or undefined when the file does not exist: then every net.* sysctl is allowed, as in the reference.
 */
export function readAllowlist(path: string): Array<{ source: string; pattern: RegExp }> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isNodeErrorCode(err, 'ENOENT')) return undefined;
    throw new CniError(ErrorCode.IOFailure, `cannot read the sysctl allowlist ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((source) => {
      try {
        return { source, pattern: goRegExp(source) };
      } catch (err) {
        throw new CniError(
          ErrorCode.InvalidNetworkConfig,
          `the sysctl allowlist ${JSON.stringify(path)} holds ${JSON.stringify(source)}, which is not a regular expression: ${(err as Error).message}`,
        );
      }
    });
}

/**
 * With an allowlist, every sysctl key (as the config writes it, before IFNAME is replaced) must match
 * one of its patterns somewhere, as Go's regexp.MatchString does: the host's policy on what a
 * container's network may set.
 */
export function assertAllowed(keys: string[], path: string): void {
  const allowlist = readAllowlist(path);
  if (!allowlist) return;
  const refused = keys.find((key) => !allowlist.some(({ pattern }) => pattern.test(key)));
  if (refused === undefined) return;
  throw new CniError(
    ErrorCode.InvalidNetworkConfig,
    `invalid field "sysctl[${JSON.stringify(refused)}]": ${path} does not allow it (allowed: ${allowlist.map((a) => a.source).join(', ') || 'nothing'})`,
  );
}

/**
 * A Go (RE2) regular expression as a JavaScript one: the common syntax is the same; Go's leading
 * flag groups `(?i)`, `(?s)`, `(?m)` become flags. POSIX classes (`[[:alpha:]]`) are refused as not
 * JavaScript, so no line silently means something else.
 */
function goRegExp(source: string): RegExp {
  const flags = /^\(\?([ims]+)\)/.exec(source);
  if (/\[\[:[a-z]+:\]\]/.test(source)) throw new SyntaxError('POSIX classes such as [[:alpha:]] are not supported; write the characters, e.g. [A-Za-z]');
  return flags ? new RegExp(source.slice(flags[0].length), flags[1]) : new RegExp(source);
}
