#!/usr/bin/env bash
# Lays out one installable version of the suite in DEST (which must not exist yet), the tree that
# scripts/install.sh and scripts/package.sh both ship:
#   bin/<name>        every executable in scripts/plugins.mjs: the compiled client of each plugin (it
#                     hands calls to warm workers, else runs launch/<name>), the launcher of each tool
#   launch/<name>     the plugins' launchers, naming FINAL
#   dist/cni-ts-worker.js, dist/build-id   the warm worker (cni-ts workers) and the build it belongs to
#   dist/<name>.js    their bundles (and source maps)
#   node_modules/     the run-time modules only (`npm ci --omit=dev`: koffi, netlink and what they load)
#   libexec/          cni-ts-firewalld-reload, run by the firewalld unit
#   package.json, package-lock.json
# Builds first, in this checkout (with `npm ci` when its node_modules is missing or older than the
# lock file, since the build needs the dev dependencies), unless CNI_TS_SKIP_BUILD=1: the tests,
# which built already and must not rewrite dist/ under plugins that other tests are running.
# FINAL (default DEST) is where the tree will be when it runs: the launchers name it, since the
# runtimes start them through symlinks and a shell cannot resolve those without a process.
# Usage: bash scripts/stage.sh DEST [FINAL]
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "stage: $*" >&2; exit 1; }
[ $# -eq 1 ] || [ $# -eq 2 ] || die "usage: bash scripts/stage.sh DEST [FINAL]"
dest="$1"
final="$(realpath -m "${2:-$1}")"
[ ! -e "$dest" ] || die "$dest exists"

if [ "${CNI_TS_SKIP_BUILD:-${CNI_TS_SKIP_SETUP:-}}" != 1 ]; then
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  node scripts/build.mjs >/dev/null
fi

mapfile -t plugins < <(node --input-type=module -e "import { PLUGINS } from './scripts/plugins.mjs'; for (const p of PLUGINS) console.log(p.name);")
((${#plugins[@]})) || die "scripts/plugins.mjs lists no executable"

mkdir -p "$dest/bin" "$dest/dist" "$dest/libexec"
name_tree() { sed "/^r=/a [ -r \"\$r/dist/$1.js\" ] || r='$final'" "$2" >"$3"; }
for name in "${plugins[@]}"; do
  [[ -f "bin/$name" && -f "dist/$name.js" ]] || die "bin/$name or dist/$name.js is missing: run node scripts/build.mjs"
  if [ -f "launch/$name" ]; then
    # bin/ holds the compiled client, which finds launch/ from its own resolved path
    mkdir -p "$dest/launch"
    cp "bin/$name" "$dest/bin/$name"
    name_tree "$name" "launch/$name" "$dest/launch/$name"
  else
    name_tree "$name" "bin/$name" "$dest/bin/$name"
  fi
  cp "dist/$name.js" "$dest/dist/"
  [ ! -f "dist/$name.js.map" ] || cp "dist/$name.js.map" "$dest/dist/"
done
cp dist/cni-ts-worker.js dist/build-id "$dest/dist/"
cp systemd/cni-ts-firewalld-reload "$dest/libexec/"
cp package.json package-lock.json "$dest/"

# the run-time modules, resolved from the lock file as a user's `npm ci` would, without dev tools
(cd "$dest" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)
# the native addons ship prebuilt binaries: make sure they load from the staged tree
(cd "$dest" && node -e "require('koffi'); require('netlink')") || die "koffi or netlink does not load from $dest/node_modules"

chmod -R u+rwX,go+rX,go-w "$dest"
chmod 755 "$dest"/bin/* "$dest"/libexec/*
[ ! -d "$dest/launch" ] || chmod 755 "$dest"/launch/*
