import { dirname, join } from 'node:path';
import { suiteRoot } from './suite';

/**
 * The native addons (koffi, netlink's binding) are never bundled: they
 * are loaded at run time from the suite's node_modules, and only by the verbs that need them.
 * Each is first opened directly at the path where its package puts the prebuilt binary for this
 * platform: the packages' own loaders (module resolution, ELF probing for the C library) cost
 * 2 to 5 ms per process. Where that fails (another layout, musl), the package's loader runs.
 */
export function loadKoffi(): typeof import('koffi') {
  const { platform, arch } = process;
  const prebuilt = join(suiteRoot(), 'node_modules', '@koromix', `koffi-${platform}-${arch}`, `${platform}_${arch}`, 'koffi.node');
  return (dlopen(prebuilt) ?? requireFromSuite('koffi')) as typeof import('koffi');
}

/** netlink's binding, as its own loader (node-gyp-build) finds it when the direct path fails. */
export function loadNetlinkBinding(): unknown {
  const prebuilt = join(suiteRoot(), 'node_modules', 'netlink', 'prebuilds', `${process.platform}-${process.arch}`, 'node.napi.node');
  const direct = dlopen(prebuilt);
  if (direct) return direct;
  const netlinkPackage = suiteRequire().resolve('netlink/package.json');
  const nodeGypBuild = createRequire(netlinkPackage)('node-gyp-build') as (dir: string) => unknown;
  return nodeGypBuild(dirname(netlinkPackage));
}

function dlopen(path: string): unknown {
  const module = { exports: {} };
  try {
    process.dlopen(module, path);
    return module.exports;
  } catch {
    return undefined;
  }
}

const requireFromSuite = (id: string): unknown => suiteRequire()(id);
const suiteRequire = (): NodeJS.Require => createRequire(join(suiteRoot(), 'package.json'));
// node:module is required when used: most runs never need it
const createRequire = (path: string): NodeJS.Require => (require('node:module') as typeof import('node:module')).createRequire(path);
