import type * as z from 'zod/mini';
import type { $ZodIssue, $ZodType } from 'zod/v4/core';
import { safeParse } from 'zod/v4/core';
import { CniError, ErrorCode } from '../errors';
import { matchGoKeys } from './go-keys';

/** Renders a zod path the way a user writes it in a conflist: ipam.ranges[0][0].subnet */
export function fieldPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

/**
 * Validates `value` against `schema`, its keys matched to the schema's fields as Go's decoder
 * matches them (see matchGoKeys), and returns it so; on failure throws a CniError whose message names every
 * offending field and what was expected there.
 */
export function parseWith<S extends $ZodType>(schema: S, value: unknown, what: string, code: number = ErrorCode.InvalidNetworkConfig, pathPrefix = ''): z.infer<S> {
  const parsed = safeParse(schema, matchGoKeys(schema, value), { reportInput: true });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `field "${fieldPath(issue.path, pathPrefix)}": ${describeIssue(issue)}`);
  throw new CniError(code, `invalid ${what}: ${problems.join('; ')}`);
}

function describeIssue(issue: $ZodIssue): string {
  if (issue.code === 'invalid_type') {
    return issue.input === undefined ? `is required (expected ${issue.expected})` : `expected ${issue.expected}, got ${describeValue(issue.input)}`;
  }
  if (issue.code === 'custom') return `${issue.message}, got ${describeValue(issue.input)}`;
  if (issue.code === 'too_small' || issue.code === 'too_big') return describeBound(issue);
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(issue.input)}`;
  if (issue.code === 'invalid_union') return `got ${describeValue(issue.input)}, which matches none of the accepted forms`;
  if (issue.code === 'invalid_format') return `expected ${issue.format}, got ${describeValue(issue.input)}`;
  if (issue.code === 'invalid_key') return `has an invalid key ${describeValue(issue.input)}`;
  return `${issue.message} (${issue.code})`;
}

function describeBound(issue: $ZodIssue & { code: 'too_small' | 'too_big' }): string {
  const [word, bound] = issue.code === 'too_small' ? ['least', issue.minimum] : ['most', issue.maximum];
  if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') return `must be at ${word} ${bound}, got ${describeValue(issue.input)}`;
  return `must have at ${word} ${bound} ${issue.origin === 'string' ? 'character(s)' : 'element(s)'}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${typeof value} ${text.slice(0, 77)}...` : `${typeof value} ${text}`;
}
