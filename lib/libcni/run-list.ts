import { CniError, ErrorCode } from '../errors';
import { delegateError, execPlugin, findPlugin } from '../invoke/delegate';
import { isTrue, versionAtLeast, type NetConfList } from '../types';
import { cachedAttachments, readCache, removeCache, writeCache, type CachedAttachment } from './cache';

/** One attachment of a network, as a runtime names it. */
export interface RuntimeConf {
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS pairs. */
  args: Array<[string, string]>;
  /** Capability values (portMappings, ips, mac...): given to the plugins that declare the capability. */
  capabilityArgs: Record<string, unknown>;
}

export interface ListContext {
  list: NetConfList;
  /** CNI_PATH directories. */
  path: string[];
  cacheDir: string;
}

type Plugin = NetConfList['plugins'][number];

/** A plugin's stdin: its object plus the list's name and version, runtimeConfig for its capabilities, prevResult. */
export function pluginConfig(list: NetConfList, plugin: Plugin, rt: RuntimeConf | undefined, prevResult?: unknown): Record<string, unknown> {
  const caps = (plugin as { capabilities?: Record<string, boolean> }).capabilities ?? {};
  const runtimeConfig = Object.fromEntries(Object.entries(rt?.capabilityArgs ?? {}).filter(([key]) => caps[key]));
  return {
    ...plugin,
    name: list.name,
    cniVersion: list.cniVersion,
    ...(Object.keys(runtimeConfig).length ? { runtimeConfig } : {}),
    ...(prevResult !== undefined ? { prevResult } : {}),
  };
}

async function invoke(ctx: ListContext, plugin: Plugin, command: string, rt: RuntimeConf | undefined, config: object): Promise<unknown> {
  // the runtime's whole environment, as libcni passes it (XDG_RUNTIME_DIR for dnsname,
  // DBUS_SYSTEM_BUS_ADDRESS for firewall), with the call's own CNI_* variables
  const env: NodeJS.ProcessEnv = { ...process.env, CNI_COMMAND: command, CNI_PATH: ctx.path.join(':') };
  for (const key of ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS']) delete env[key];
  if (rt) {
    Object.assign(env, { CNI_CONTAINERID: rt.containerId, CNI_NETNS: rt.netns, CNI_IFNAME: rt.ifname });
    if (rt.args.length) env.CNI_ARGS = rt.args.map(([k, v]) => `${k}=${v}`).join(';');
  }
  const { code, stdout } = await execPlugin(findPlugin(plugin.type, ctx.path), env, Buffer.from(JSON.stringify(config)));
  if (code !== 0) throw delegateError(plugin.type, stdout);
  return stdout.trim() ? JSON.parse(stdout) : undefined;
}

/**
 * ADD through the list with prevResult chaining; the result is cached (libcni's format) for DEL
 * and CHECK. If a plugin fails, the ones already added get DEL in reverse order, so a failed ADD
 * leaves nothing behind.
 */
export async function addList(ctx: ListContext, rt: RuntimeConf): Promise<unknown> {
  let result: unknown;
  const added: Plugin[] = [];
  try {
    for (const plugin of ctx.list.plugins) {
      result = await invoke(ctx, plugin, 'ADD', rt, pluginConfig(ctx.list, plugin, rt, result));
      added.push(plugin);
    }
  } catch (err) {
    for (const plugin of added.reverse()) {
      await invoke(ctx, plugin, 'DEL', rt, pluginConfig(ctx.list, plugin, rt, result)).catch(() => undefined);
    }
    throw err;
  }
  writeCache(ctx.cacheDir, {
    kind: 'cniCacheV1',
    containerId: rt.containerId,
    config: Buffer.from(JSON.stringify(ctx.list)).toString('base64'),
    ifName: rt.ifname,
    networkName: ctx.list.name,
    netns: rt.netns,
    cniArgs: rt.args,
    capabilityArgs: rt.capabilityArgs,
    result: result as never,
  });
  return result;
}

/** Without CAP_ARGS, DEL and CHECK reuse the capabilities ADD was given (as libcni does with its cache). */
function withCachedCapabilities(rt: RuntimeConf, cached: CachedAttachment | undefined): RuntimeConf {
  return Object.keys(rt.capabilityArgs).length || !cached ? rt : { ...rt, capabilityArgs: cached.capabilityArgs ?? {} };
}

/** DEL in reverse order with the cached result as prevResult (none without a cache); then drops the cache. */
export async function delList(ctx: ListContext, rt: RuntimeConf): Promise<void> {
  const cached = readCache(ctx.cacheDir, ctx.list.name, rt.containerId, rt.ifname);
  const withCaps = withCachedCapabilities(rt, cached);
  for (const plugin of [...ctx.list.plugins].reverse()) {
    await invoke(ctx, plugin, 'DEL', withCaps, pluginConfig(ctx.list, plugin, withCaps, cached?.result));
  }
  removeCache(ctx.cacheDir, ctx.list.name, rt.containerId, rt.ifname);
}

export async function checkList(ctx: ListContext, rt: RuntimeConf): Promise<void> {
  if (!versionAtLeast(ctx.list.cniVersion, '0.4.0'))
    throw new CniError(ErrorCode.IncompatibleVersion, `CHECK needs cniVersion 0.4.0 or later, the list has ${ctx.list.cniVersion}`);
  if (isTrue(ctx.list.disableCheck)) return;
  const cached = readCache(ctx.cacheDir, ctx.list.name, rt.containerId, rt.ifname);
  if (!cached?.result) throw new CniError(ErrorCode.InvalidNetworkConfig, `no cached result for ${rt.containerId}/${rt.ifname} on ${ctx.list.name}: CHECK needs a prior ADD`);
  const withCaps = withCachedCapabilities(rt, cached);
  for (const plugin of ctx.list.plugins) await invoke(ctx, plugin, 'CHECK', withCaps, pluginConfig(ctx.list, plugin, withCaps, cached.result));
}

const needs110 = (ctx: ListContext, verb: string) => {
  if (!versionAtLeast(ctx.list.cniVersion, '1.1.0')) throw new CniError(ErrorCode.IncompatibleVersion, `${verb} needs cniVersion 1.1.0, the list has ${ctx.list.cniVersion}`);
};

export async function statusList(ctx: ListContext): Promise<void> {
  needs110(ctx, 'STATUS');
  for (const plugin of ctx.list.plugins) await invoke(ctx, plugin, 'STATUS', undefined, pluginConfig(ctx.list, plugin, undefined));
}

/** GC with the cached attachments of the network as the valid ones; nothing with `disableGC`. */
export async function gcList(ctx: ListContext): Promise<void> {
  if (isTrue(ctx.list.disableGC)) return;
  needs110(ctx, 'GC');
  const valid = cachedAttachments(ctx.cacheDir, ctx.list.name).map((c) => ({ containerID: c.containerId, ifname: c.ifName }));
  for (const plugin of ctx.list.plugins) {
    await invoke(ctx, plugin, 'GC', undefined, { ...pluginConfig(ctx.list, plugin, undefined), 'cni.dev/valid-attachments': valid, 'cni.dev/attachments': valid });
  }
}
