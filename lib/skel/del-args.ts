import { CniError } from '../errors';
import { log } from '../log';
import { netnsExists } from '../netns';
import { lenientNetConf, type NetConf, type Result } from '../types';
import { MAX_NESTING_DEPTH, measureNesting } from './stdin-config';

/*
 * DEL must succeed for anything ADD may have touched, also for a config ADD refused, a netns
 * already gone or a prevResult that cannot be decoded. What DEL's input may lack, and how it is
 * read instead, is decided here; lib/skel/read-args.ts reads every other verb's input strictly.
 * The verbs receive DelArgs (cmd-args.ts), which a plugin's strict parseConfig does not accept.
 */

/** A top-level field nested too deeply is dropped (and logged), so the DEL finds its state by the fields left. */
export function dropOverDeepFields(parsed: unknown): void {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
  const config = parsed as Record<string, unknown>;
  const dropped = Object.keys(config).filter((key) => measureNesting(config[key], MAX_NESTING_DEPTH - 1).depth > MAX_NESTING_DEPTH - 1);
  for (const key of dropped) delete config[key];
  if (dropped.length) log.warn('DEL: ignoring config fields nested too deeply', { fields: dropped, limit: MAX_NESTING_DEPTH });
}

/** Only `cniVersion` and `name` are required; well-known fields of the wrong shape are dropped, not fatal. */
export function lenientConfig(raw: Record<string, unknown>): NetConf {
  const { config, dropped } = lenientNetConf(raw, 'network config');
  if (dropped.length) log.warn('DEL: ignoring config fields of the wrong shape', { fields: dropped });
  return config;
}

/** A DEL goes on without a prevResult it cannot decode. */
export function lenientPrevResult(read: () => Result): Result | undefined {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof CniError)) throw err;
    log.warn('DEL: ignoring a prevResult that cannot be decoded', { error: err.message });
    return undefined;
  }
}

/** A DEL whose namespace is already gone is not refused: the plugin decides what that means. */
export const netnsGone = (netns: string): boolean => !netnsExists(netns);
