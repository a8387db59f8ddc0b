import { CniError, ErrorCode } from '../errors';
import type { PluginIO } from './io';

/** Stdin larger than this is not a network config; refuse it before parsing. */
const MAX_STDIN_BYTES = 4 * 1024 * 1024;
/**
 * Arrays and objects nested deeper than this are not a network config (a real one nests about 6:
 * prevResult.interfaces[0], ipam.ranges[0][0]); refuse them before anything is done. JSON.parse
 * accepts any depth, but JSON.stringify recurses and overflows the stack at a few thousand, so a
 * chained plugin echoing a deep field of prevResult failed only when printing its result.
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * The config on stdin, decoded and within the limits above; `prepare` may change the decoded value
 * before the nesting check (DEL drops what it cannot use, lib/skel/del-args.ts).
 */
export function readConfig(io: PluginIO, prepare?: (parsed: unknown) => void): { raw: Record<string, unknown>; stdin: Buffer } {
  let stdin: Buffer;
  try {
    stdin = io.readStdin();
  } catch (err) {
    throw new CniError(ErrorCode.IOFailure, `cannot read the network config from stdin: ${(err as Error).message}`);
  }
  if (stdin.length > MAX_STDIN_BYTES) {
    throw new CniError(ErrorCode.DecodingFailure, `network config on stdin is ${stdin.length} bytes; the limit is ${MAX_STDIN_BYTES}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdin.toString('utf8'));
  } catch (err) {
    const why = err instanceof RangeError ? 'nested too deeply' : (err as Error).message;
    throw new CniError(ErrorCode.DecodingFailure, `cannot decode the network config on stdin as JSON: ${why}`);
  }
  prepare?.(parsed);
  const nesting = measureNesting(parsed, MAX_NESTING_DEPTH);
  if (nesting.depth > MAX_NESTING_DEPTH) {
    throw new CniError(
      ErrorCode.DecodingFailure,
      `the network config on stdin nests arrays and objects ${nesting.depth} levels deep (at ${JSON.stringify(nesting.path)}); the limit is ${MAX_NESTING_DEPTH}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CniError(ErrorCode.DecodingFailure, 'the network config on stdin must be a JSON object');
  }
  return { raw: parsed as Record<string, unknown>, stdin };
}

interface Level {
  value: object;
  depth: number;
  key?: string | number;
  parent?: Level;
}

/**
 * How deep `root` nests arrays and objects (the top-level one is level 1), walked with an explicit
 * stack so any depth JSON.parse accepted can be measured; `path` leads to the first value deeper
 * than `limit` (shortened after a few steps). Levels past the limit keep no parent, so a
 * two-million-deep array costs a stack of one.
 */
export function measureNesting(root: unknown, limit: number): { depth: number; path?: string } {
  if (typeof root !== 'object' || root === null) return { depth: 0 };
  let depth = 0;
  let beyond: Level | undefined;
  const stack: Level[] = [{ value: root, depth: 1 }];
  for (let level = stack.pop(); level; level = stack.pop()) {
    depth = Math.max(depth, level.depth);
    if (level.depth > limit) beyond ??= level;
    const children = Array.isArray(level.value) ? level.value.entries() : Object.entries(level.value);
    for (const [key, value] of children) {
      if (typeof value !== 'object' || value === null) continue;
      stack.push(level.depth <= limit ? { value, depth: level.depth + 1, key, parent: level } : { value, depth: level.depth + 1 });
    }
  }
  return { depth, path: beyond && formatPath(beyond) };
}

function formatPath(level: Level): string {
  const steps: string[] = [];
  for (let l: Level | undefined = level; l?.key !== undefined; l = l.parent) {
    steps.unshift(typeof l.key === 'number' ? `[${l.key}]` : /^[A-Za-z_$][\w$-]*$/.test(l.key) ? `.${l.key}` : `[${JSON.stringify(l.key)}]`);
  }
  const shown = steps.slice(0, 8).join('').replace(/^\./, '');
  return steps.length > 8 ? `${shown}…` : shown;
}
