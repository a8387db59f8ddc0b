#!/usr/bin/env bash
# Installs the suite for a container runtime: the runtime files go to LIB_DIR, and every executable
# is linked into BIN_DIR, the runtime's plugin directory. Replaces plugins of the same name there.
# Usage (root): bash scripts/install.sh [BIN_DIR]   (default /opt/cni/bin; LIB_DIR = BIN_DIR/../lib/cni-ts,
#               or $CNI_TS_LIB_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN_DIR="$(realpath -m "${1:-/opt/cni/bin}")"
LIB_DIR="$(realpath -m "${CNI_TS_LIB_DIR:-$(dirname "$BIN_DIR")/lib/cni-ts}")"
# (CNI_TS_SKIP_SETUP=1: the tests, which built already and must not rebuild under running plugins)
[ "${CNI_TS_SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh >/dev/null

staging="$LIB_DIR.new.$$"
rm -rf "$staging"
mkdir -p "$staging/node_modules" "$BIN_DIR"
cp -r bin dist package.json "$staging/"
# the production dependencies only (koffi, netlink and what they load at run time)
npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2 | while read -r dep; do
  rel="${dep#"$PWD"/}"
  mkdir -p "$staging/$(dirname "$rel")"
  cp -r "$dep" "$staging/$rel"
done
rm -rf "$LIB_DIR"
mv "$staging" "$LIB_DIR"
# symlinks: a plugin resolves its bundle (and its in-process delegates) from its real path
for exe in "$LIB_DIR"/bin/*; do
  ln -sfn "$exe" "$BIN_DIR/$(basename "$exe")"
done
echo "installed $(ls "$LIB_DIR/bin" | tr '\n' ' ')into $BIN_DIR (files in $LIB_DIR)"
