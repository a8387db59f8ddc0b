import type { $ZodType } from 'zod/v4/core';
import { safeParse } from 'zod/v4/core';

/**
 * Go's encoding/json, which the reference plugins and libcni decode configs with, matches an
 * object key to a struct field by its JSON name exactly or, failing that, ignoring case; runtimes
 * built on go-cni (containerd's CRI, nerdctl) rely on it: their capability structs have no JSON
 * tags, so they send `{"HostPort": 8080}` for portmap's `hostPort`. The schemas here name fields
 * as the reference's tags do; `matchGoKeys` renames an input's keys to those names first.
 *
 * When several keys match one field, an exact match wins whatever its place, and among
 * case-insensitive ones the last (Go lets the last of any kind win; a config with both `hostPort`
 * and `HostPort` is ambiguous, and the name the reference documents is the one kept). Keys that
 * match no field are kept as they are; keys of maps (`z.record`, e.g. dnsname's aliases by
 * network name, capabilities) are data, not field names, and are never renamed.
 */
export function matchGoKeys(schema: $ZodType, value: unknown): unknown {
  const def = schema._zod.def as SchemaDef;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'nonoptional':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
      return matchGoKeys(def.innerType!, value);
    case 'pipe':
      return matchGoKeys(def.in!, value);
    case 'lazy':
      return matchGoKeys(def.getter!(), value);
    case 'array':
      return Array.isArray(value) ? value.map((v) => matchGoKeys(def.element!, v)) : value;
    case 'tuple':
      return Array.isArray(value)
        ? value.map((v, i) => {
            const item = def.items![i] ?? def.rest;
            return item ? matchGoKeys(item, v) : v;
          })
        : value;
    case 'record':
      return isObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, matchGoKeys(def.valueType!, v)])) : value;
    case 'object':
      return isObject(value) ? matchFields(def.shape!, value) : value;
    case 'union':
      return matchUnion(def.options!, value);
    case 'intersection':
      return matchGoKeys(def.right!, matchGoKeys(def.left!, value));
    default:
      return value;
  }
}

/** The value of field `name` of a decoded JSON object, found as Go finds it (see matchGoKeys). */
export function goField(object: unknown, name: string): unknown {
  if (!isObject(object)) return undefined;
  if (Object.hasOwn(object, name)) return object[name];
  const folded = fold(name);
  let found: unknown;
  for (const [key, value] of Object.entries(object)) if (fold(key) === folded) found = value;
  return found;
}

interface SchemaDef {
  type: string;
  innerType?: $ZodType;
  in?: $ZodType;
  getter?: () => $ZodType;
  element?: $ZodType;
  items?: $ZodType[];
  rest?: $ZodType | null;
  valueType?: $ZodType;
  shape?: Record<string, $ZodType>;
  options?: $ZodType[];
  left?: $ZodType;
  right?: $ZodType;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Go's case folding of field names (encoding/json's foldName): ASCII letters ignore case, and
 * U+017F (long s) and U+212A (Kelvin sign) fold to S and K, as Unicode's simple folding has them.
 */
const fold = (name: string): string => name.replace(/[a-z\u017f\u212a]/g, (c) => (c === '\u017f' ? 'S' : c === '\u212a' ? 'K' : c.toUpperCase()));

function matchFields(shape: Record<string, $ZodType>, object: Record<string, unknown>): Record<string, unknown> {
  const byFold = new Map<string, string>();
  for (const field of Object.keys(shape)) if (!byFold.has(fold(field))) byFold.set(fold(field), field);
  const fields = new Map<string, unknown>();
  const unknown: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(object)) {
    const field = Object.hasOwn(shape, key) ? key : byFold.get(fold(key));
    if (field === undefined) unknown.push([key, value]);
    else if (key === field || !Object.hasOwn(object, field)) fields.set(field, value);
  }
  // fromEntries defines own properties: a key "__proto__" stays data
  return Object.fromEntries([...unknown, ...[...fields].map(([field, value]) => [field, matchGoKeys(shape[field], value)])]);
}

/** The first form of a union the value fits once its keys are matched to that form; else the value unchanged, for the union's own error. */
function matchUnion(options: $ZodType[], value: unknown): unknown {
  for (const option of options) {
    const matched = matchGoKeys(option, value);
    if (safeParse(option, matched).success) return matched;
  }
  return value;
}
