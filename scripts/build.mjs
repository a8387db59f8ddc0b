// Bundles each plugin into one file (dist/<name>.js) so a cold start parses one script instead of
// resolving hundreds of modules, and writes the tiny bin/<name> launcher next to it.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLUGINS } from './plugins.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** netlink's raw.js finds its .node file from __dirname, which bundling changes; point it at the package. */
const netlinkBinding = {
  name: 'netlink-binding',
  setup(b) {
    b.onLoad({ filter: /netlink[\\/]dist[\\/]raw\.js$/ }, async (args) => {
      const source = readFileSync(args.path, 'utf8');
      const patched = source.replace("require('node-gyp-build')(__dirname + '/..')", "require('node-gyp-build')(require('path').dirname(require.resolve('netlink/package.json')))");
      if (patched === source) throw new Error('netlink raw.js changed shape; update scripts/build.mjs');
      return { contents: patched, loader: 'js' };
    });
  },
};
mkdirSync(join(root, 'dist'), { recursive: true });

await Promise.all(
  PLUGINS.map(({ name, main }) =>
    build({
      stdin: {
        contents: `import { main } from './${main}';\nmain().then((code) => process.exit(code));\n`,
        resolveDir: root,
        sourcefile: `${name}-entry.ts`,
        loader: 'ts',
      },
      outfile: join(root, 'dist', `${name}.js`),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      // koffi loads its prebuilt binary relative to its own package, so it stays in node_modules;
      // netlink's JavaScript is bundled and only its binary is looked up in node_modules at run time
      external: ['koffi', 'node-gyp-build', 'netlink/package.json'],
      plugins: [netlinkBinding],
      minifySyntax: true,
      minifyWhitespace: true,
      sourcemap: 'linked',
      logLevel: 'warning',
    }),
  ),
);

for (const { name } of PLUGINS) {
  const launcher = join(root, 'bin', name);
  const target = relative(join(root, 'bin'), join(root, 'dist', `${name}.js`));
  writeFileSync(launcher, `#!/usr/bin/env node\nrequire('./${target}');\n`);
  chmodSync(launcher, 0o755);
}
console.log(`built ${PLUGINS.map((p) => p.name).join(', ')}`);
