// Builds every executable of scripts/plugins.mjs:
//   dist/<name>.js            one bundled file each, so a cold start parses one script instead of
//                             resolving hundreds of modules
//   dist/cni-ts-worker.js     the warm worker (lib/workers): every plugin's code, served by `cni-ts workers`
//   dist/build-id             what ties a client to the workers of the same build
//   bin/<plugin>              the compiled client (lib/workers/client.c): hands the call to a warm worker, or
//                             execs launch/<plugin>; where no C compiler is found, the launcher itself
//   launch/<plugin>, bin/<tool>  the launcher: execs node on <name>'s bundle
// Native addons (koffi, netlink's binding) stay in node_modules and are loaded at run time by
// lib/start/native.ts, never bundled.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLUGINS } from './plugins.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeLoader = join(root, 'lib/start/native.ts');

/**
 * netlink's raw.js opens its native binding as it is first required, with
 * `require('node-gyp-build')(__dirname + '/..')`: on every start that loads the package's code, and
 * from a directory that bundling changes. In the bundles that `node-gyp-build` is a stand-in whose
 * binding lib/start/native.ts opens from node_modules when a socket first uses it, so a plugin that
 * only answers VERSION never loads it. Nothing in the package is patched; a release that gets its
 * binding another way fails the build (bundleHoldsLazyBinding).
 */
const LAZY_BINDING = { namespace: 'lazy-netlink-binding', path: 'node-gyp-build' };
const lazyNetlinkBinding = {
  name: 'lazy-netlink-binding',
  setup(b) {
    b.onResolve({ filter: /^node-gyp-build$/ }, (args) => (/[\\/]node_modules[\\/]netlink[\\/]/.test(args.importer) ? LAZY_BINDING : undefined));
    b.onLoad({ filter: /.*/, namespace: LAZY_BINDING.namespace }, () => ({
      contents: `let binding; module.exports = () => new Proxy({}, { get: (_, key) => (binding ??= require(${JSON.stringify(nativeLoader)}).loadNetlinkBinding())[key] });`,
      loader: 'js',
      resolveDir: root,
    }));
  },
};

const netlinkVersion = () => JSON.parse(readFileSync(join(root, 'node_modules', 'netlink', 'package.json'), 'utf8')).version;

/** A bundle with netlink's code in it must take the binding from the stand-in: a bundled loader would look for it beside the bundle. */
function bundleHoldsLazyBinding(name, { metafile }) {
  const inputs = Object.keys(metafile.inputs);
  const netlink = inputs.some((p) => /node_modules[\\/]netlink[\\/]dist[\\/]/.test(p));
  const bundledLoader = inputs.find((p) => /node_modules[\\/]node-gyp-build[\\/]/.test(p));
  if (netlink && (bundledLoader || !inputs.includes(`${LAZY_BINDING.namespace}:${LAZY_BINDING.path}`))) {
    throw new Error(
      `dist/${name}.js: netlink ${netlinkVersion()} does not load its binding through require('node-gyp-build') as 0.3.0's dist/raw.js does` +
        `${bundledLoader ? `, and ${bundledLoader} was bundled` : ''}; make the lazy-netlink-binding plugin of scripts/build.mjs replace what it uses now`,
    );
  }
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['koffi'],
  plugins: [lazyNetlinkBinding],
  metafile: true,
  minifySyntax: true,
  minifyWhitespace: true,
  logLevel: 'warning',
};

/** The module beside an executable's main that holds its verbs, loaded lazily by a plain start. */
const verbsOf = (main) => [join(dirname(main), 'verbs.ts')].filter((p) => existsSync(join(root, p)));

const bundle = async (name, contents, extra = {}) =>
  bundleHoldsLazyBinding(
    name,
    await build({ ...common, ...extra, stdin: { contents, resolveDir: root, sourcefile: `${name}-entry.ts`, loader: 'ts' }, outfile: join(root, 'dist', `${name}.js`) }),
  );

/** A script that imports `plugins`' mains and verbs (initialised as it loads) and hands the mains to `start` of `module`. */
const entryWith = (module, start, plugins) =>
  [
    `import { ${start} } from '${module}';`,
    ...plugins.map(({ main }, i) => `import { main as main${i} } from './${main}';`),
    ...plugins.flatMap(({ main }) => verbsOf(main)).map((verbs) => `import './${verbs}';`),
    `${start}({ ${plugins.map(({ name }, i) => `${JSON.stringify(name)}: main${i}`).join(', ')} });`,
  ].join('\n');

/** The warm worker's script: every plugin a runtime runs (not the tools), loaded before a call arrives. */
const workerEntry = (plugins) => entryWith('./lib/workers/worker-main', 'startWorker', plugins);

const isTool = (p) => p.kind === 'tool';
const RUNTIME_PLUGINS = PLUGINS.filter((p) => !isTool(p));

mkdirSync(join(root, 'dist'), { recursive: true });
await Promise.all([
  ...PLUGINS.map(({ name, main }) =>
    bundle(
      name,
      `import { adoptLauncherPath } from './lib/start/launcher';\nimport { main } from './${main}';\nadoptLauncherPath();\nmain().then((code) => process.exit(code));\n`,
      {
        sourcemap: 'linked',
      },
    ),
  ),
  bundle('cni-ts-worker', workerEntry(RUNTIME_PLUGINS)),
]);
const buildId = createHash('sha256')
  .update(readFileSync(join(root, 'dist', 'cni-ts-worker.js')))
  .digest('hex')
  .slice(0, 16);
writeFileSync(join(root, 'dist', 'build-id'), `${buildId}\n`);

const client = compileClient(buildId);
for (const dir of ['bin', 'launch']) mkdirSync(join(root, dir), { recursive: true });
for (const plugin of PLUGINS) {
  const { name } = plugin;
  const viaClient = client && !isTool(plugin);
  writeExecutable(join(root, viaClient ? 'launch' : 'bin', name), launcherScript(name));
  if (viaClient) writeExecutable(join(root, 'bin', name), client);
  else rmSync(join(root, 'launch', name), { force: true });
}
console.log(`built ${PLUGINS.map((p) => p.name).join(', ')}, the warm worker ${client ? 'and the client in bin/' : 'and no client (no C compiler: bin/ holds the launchers)'}`);

/** Written aside and renamed: a plugin starting meanwhile runs the old file or the new one. */
function writeExecutable(path, content) {
  const partial = `${path}.${process.pid}`;
  writeFileSync(partial, content);
  chmodSync(partial, 0o755);
  renameSync(partial, path);
}

/**
 * lib/workers/client.c with the system C compiler, statically linked when the C library allows it
 * (no dynamic loader at each exec); undefined when there is no compiler.
 */
function compileClient(id) {
  const out = join(root, 'dist', 'cni-ts-client');
  const source = join(root, 'lib', 'workers', 'client.c');
  for (const linking of [['-static'], []]) {
    try {
      execFileSync('cc', ['-O2', '-s', '-Wall', '-Werror', ...linking, `-DBUILD_ID="${id}"`, '-o', out, source], { stdio: ['ignore', 'ignore', 'pipe'] });
      return readFileSync(out);
    } catch {
      // next: dynamically linked, then none
    }
  }
  return undefined;
}

/**
 * The suite's directory is found from the launcher's path; runtimes start it through symlinks,
 * which a shell cannot resolve without starting readlink, so scripts/stage.sh adds a line naming
 * the installed tree after the first (and readlink is left for trees moved after installation).
 */
function launcherScript(name) {
  return `#!/bin/sh
# ${name}, from the cni-ts suite: node on its bundle (exec: the runtime's child is node itself).
# No plugin makes TLS connections, and node reads NODE_EXTRA_CA_CERTS at every start (~50 ms).
unset NODE_EXTRA_CA_CERTS
# bin/${name}, the client, names the path the runtime ran when it falls back to this launcher
a="\${CNI_TS_INVOKED_AS:-$0}"
unset CNI_TS_INVOKED_AS
r="\${0%/*}/.."
[ -r "$r/dist/${name}.js" ] || { r="$(readlink -f -- "$0")" && r="\${r%/*}/.."; }
exec node "$r/dist/${name}.js" --cni-ts-launcher="$a" "$@"
`;
}
