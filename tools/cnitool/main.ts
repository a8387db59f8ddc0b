import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { CniError, ErrorCode } from '../../lib/errors';
import { DEFAULT_CACHE_DIR } from '../../lib/libcni/cache';
import { DEFAULT_CONF_DIR, loadNetwork } from '../../lib/libcni/conf-files';
import { parseCniArgs } from '../../lib/skel/cni-args';
import { toCniError } from '../../lib/skel/translate';
import { addList, checkList, delList, gcList, statusList, type ListContext, type RuntimeConf } from '../../lib/libcni/run-list';

const USAGE = `usage: cnitool [-i|--ifname IFNAME] add|del|check <network> <netns path>
       cnitool status|gc <network>
environment: NETCONFPATH (default ${DEFAULT_CONF_DIR}), CNI_PATH (default: cnitool's own directory),
             CNI_IFNAME (default eth0), CNI_CONTAINERID, CNI_ARGS, CAP_ARGS (JSON), CNI_CACHE_DIR (default ${DEFAULT_CACHE_DIR})`;

function parseCapArgs(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CniError(ErrorCode.InvalidEnvironment, 'CAP_ARGS must be a JSON object, e.g. {"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}');
}

/** The reference cnitool's container id: the first 10 bytes of the netns path's SHA-512, so add and del agree. */
const defaultContainerId = (netns: string) => `cnitool-${createHash('sha512').update(netns).digest('hex').slice(0, 20)}`;

/** `-i NAME`, `--ifname NAME` or `--ifname=NAME` anywhere (the reference's global flag), and the other words. */
function splitIfname(argv: string[]): { ifname?: string; words: string[] } {
  const words: string[] = [];
  let ifname: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-i' || arg === '--ifname') {
      if (argv[i + 1] === undefined) throw new CniError(ErrorCode.InvalidEnvironment, `${arg} needs an interface name\n${USAGE}`);
      ifname = argv[++i];
    } else if (arg.startsWith('--ifname=')) ifname = arg.slice('--ifname='.length);
    else words.push(arg);
  }
  return { ifname, words };
}

async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<unknown> {
  const { ifname, words } = splitIfname(argv);
  const [verb, network, netnsArg] = words;
  const needsNetns = ['add', 'del', 'check'].includes(verb);
  if (!verb || !network || !['add', 'del', 'check', 'status', 'gc'].includes(verb) || (needsNetns && !netnsArg)) {
    throw new CniError(ErrorCode.InvalidEnvironment, USAGE);
  }
  const { list } = loadNetwork(env.NETCONFPATH || DEFAULT_CONF_DIR, network);
  const ctx: ListContext = {
    list,
    path: (env.CNI_PATH || dirname(process.argv[1] ?? '.')).split(':').filter(Boolean),
    cacheDir: env.CNI_CACHE_DIR || DEFAULT_CACHE_DIR,
  };
  if (verb === 'status') return statusList(ctx);
  if (verb === 'gc') return gcList(ctx);
  const netns = resolve(netnsArg);
  const rt: RuntimeConf = {
    containerId: env.CNI_CONTAINERID || defaultContainerId(netns),
    netns,
    ifname: ifname || env.CNI_IFNAME || 'eth0',
    args: [...parseCniArgs(env.CNI_ARGS)],
    capabilityArgs: parseCapArgs(env.CAP_ARGS),
  };
  if (verb === 'add') return addList(ctx, rt);
  if (verb === 'del') return delList(ctx, rt);
  return checkList(ctx, rt);
}

/** Prints the final result (ADD) or nothing; an error as the protocol's error object on stdout, exit 1. */
export async function main(): Promise<number> {
  try {
    const result = await run(process.argv.slice(2), process.env);
    if (result !== undefined) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return 0;
  } catch (err) {
    const { error, isBug } = toCniError(err);
    if (isBug) process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.stdout.write(JSON.stringify({ code: error.code, msg: error.message, details: error.details }) + '\n');
    return 1;
  }
}
