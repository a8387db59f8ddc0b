import { dirname } from 'node:path';
import { DEFAULT_CACHE_DIR } from '../../lib/libcni/cache';
import { DEFAULT_CONF_DIR } from '../../lib/libcni/conf-files';
import { defaultPool, DEFAULT_SOCKET, supervise } from '../../lib/workers/supervisor';
import { main as reapply } from '../reapply/main';
import { doctor, type Status } from './doctor';
import { removeStale, staleAttachments } from './gc';
import { inventory, type Places } from './inventory';
import { findContainer, renderNetworks } from './ls';
import { styles, table } from './table';

const USAGE = `usage: cni-ts ls [--json]            every network, each container's addresses, ports, rules and names, each range's use
       cni-ts inspect ID [--json]    one container (id prefix)
       cni-ts doctor [--json]        checks the host for the usual traps and the state against the kernel; exit 1 on a failure
       cni-ts gc [--yes]             containers whose namespace is gone; --yes removes them through their network's DEL
       cni-ts reapply                installs every recorded rule again (after nft flush ruleset or a firewall reload)
       cni-ts workers [--socket PATH] [--pool N]
                                     keeps N warm workers that serve the plugins' calls (default ${DEFAULT_SOCKET}, N twice the cores)
options: --conf-dir DIR (default ${DEFAULT_CONF_DIR}), --cache-dir DIR (default ${DEFAULT_CACHE_DIR}),
         --bin-dir DIR[:DIR] (default CNI_PATH, else this tool's directory and the runtimes' plugin directories)
reads the suite's state (CNI_TS_STATE_DIR, default /var/lib/cni-ts) and the kernel; writes only with gc --yes and reapply`;

/** Where Podman, containerd and CRI-O look for plugins by default. */
const RUNTIME_PLUGIN_DIRS = ['/opt/cni/bin', '/usr/libexec/cni', '/usr/lib/cni', '/usr/local/libexec/cni', '/usr/local/lib/cni'];

interface Options {
  command?: string;
  args: string[];
  json: boolean;
  yes: boolean;
  socket: string;
  pool?: number;
  places: Places;
  binDirs: string[];
  /** The options that say where to look, as given: doctor's printed fixes repeat them. */
  placeArgs: string[];
}

function parse(argv: string[], env: NodeJS.ProcessEnv): Options {
  const options: Options = {
    args: [],
    json: false,
    yes: false,
    socket: DEFAULT_SOCKET,
    places: { confDir: DEFAULT_CONF_DIR, cacheDir: DEFAULT_CACHE_DIR, env },
    binDirs: (env.CNI_PATH || [dirname(process.argv[1] ?? '.'), ...RUNTIME_PLUGIN_DIRS].join(':')).split(':').filter(Boolean),
    placeArgs: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (argv[i + 1] === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (arg === '--json') options.json = true;
    else if (arg === '--yes') options.yes = true;
    else if (arg === '--conf-dir') options.places.confDir = placeArg(options, arg, value());
    else if (arg === '--cache-dir') options.places.cacheDir = placeArg(options, arg, value());
    else if (arg === '--bin-dir') options.binDirs = placeArg(options, arg, value()).split(':').filter(Boolean);
    else if (arg === '--socket') options.socket = value();
    else if (arg === '--pool') options.pool = poolSize(value());
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}\n${USAGE}`);
    else if (options.command === undefined) options.command = arg;
    else options.args.push(arg);
  }
  return options;
}

function placeArg(options: Options, arg: string, value: string): string {
  options.placeArgs.push(arg, value);
  return value;
}

function poolSize(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`--pool ${JSON.stringify(text)}: expected a number of workers from 1 to 256\n${USAGE}`);
  return n;
}

const print = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const json = (value: unknown) => print(JSON.stringify(value, null, 2));

async function run(o: Options): Promise<number> {
  const style = styles(process.stdout.isTTY === true && !o.json);
  if (o.command === 'ls') {
    const networks = inventory(o.places);
    o.json ? json({ networks }) : print(renderNetworks(networks, style));
    return 0;
  }
  if (o.command === 'inspect' && o.args[0]) {
    const found = findContainer(inventory(o.places), o.args[0]);
    if (!found.length) throw new Error(`no container whose id starts with ${JSON.stringify(o.args[0])}`);
    json(found);
    return 0;
  }
  if (o.command === 'doctor') {
    const findings = await doctor(o.places, o.binDirs, inventory(o.places), o.placeArgs);
    const paint: Record<Status, (t: string) => string> = { ok: style.green, warn: style.yellow, fail: style.red };
    if (o.json) json({ findings });
    else
      print(
        table(
          ['STATUS', 'CHECK', 'DETAIL', 'FIX'],
          findings.map((f) => [paint[f.status](f.status), f.check, f.detail, f.fix ?? '']),
          style,
        ).join('\n'),
      );
    return findings.some((f) => f.status === 'fail') ? 1 : 0;
  }
  if (o.command === 'gc') {
    const stale = await staleAttachments(inventory(o.places));
    for (const a of stale) print(`${a.network} ${a.containerId} ${a.ifname}: namespace ${a.netns} is gone (${[...a.addresses, ...a.ports].join(', ') || 'no addresses'})`);
    if (!stale.length) print('no container whose namespace is gone');
    if (!o.yes) return 0;
    const { failures, notes } = await removeStale(o.places, o.binDirs, stale);
    for (const n of notes) print(n);
    for (const f of failures) print(`could not remove ${f}`);
    print(`removed ${stale.length - failures.length} of ${stale.length}`);
    return failures.length ? 1 : 0;
  }
  if (o.command === 'reapply') return reapply();
  if (o.command === 'workers') {
    const log = (line: string) => process.stderr.write(`cni-ts workers: ${line}\n`);
    return supervise({ socketPath: o.socket, pool: o.pool ?? defaultPool(), env: o.places.env, log });
  }
  throw new Error(USAGE);
}

export async function main(): Promise<number> {
  try {
    return await run(parse(process.argv.slice(2), process.env));
  } catch (err) {
    process.stderr.write(`cni-ts: ${(err as Error).message}\n`);
    return 2;
  }
}
