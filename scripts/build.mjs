// Bundles each plugin into one file (dist/<name>.js) so a cold start parses one script instead of
// resolving hundreds of modules, and writes the tiny bin/<name> launcher next to it.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLUGINS } from './plugins.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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
      // native addons load their prebuilt .node files relative to their own package
      external: ['koffi', 'netlink'],
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
