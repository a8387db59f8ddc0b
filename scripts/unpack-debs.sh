#!/usr/bin/env bash
# Daemons the tests run but the machine must not: Debian packages fetched with `apt-get download`
# and unpacked with `dpkg-deb -x` into a cache, never installed, so no service is enabled or
# started and the machine's own configuration is never touched. The tests run them from there in
# throw-away namespaces (test/helpers/firewalld.ts, test/helpers/containerd.ts). Their libraries
# and helpers that are harmless to install come from scripts/setup.sh. Prints the unpacked root.
#   unpack-debs.sh NAME FILE PACKAGE...   NAME: the cache's subdirectory; FILE: a path the packages
#                                         must provide (checked); the cache is kept while PACKAGE... stays the same
set -euo pipefail
name=$1 file=$2
shift 2
cache="${CNI_TS_TEST_CACHE:-/var/cache/cni-ts-test}/$name"
key="$*"

if [[ -f $cache/ready && $(cat "$cache/ready") == "$key" && -e $cache/root/$file ]]; then
  echo "$cache/root"
  exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt-get download writes to the current directory, as the _apt user where it can
chmod 755 "$work"
(cd "$work" && timeout 600 apt-get download -qq "$@" 2>/dev/null) || {
  timeout 600 apt-get update -qq
  (cd "$work" && timeout 600 apt-get download -qq "$@")
}
rm -rf "$cache/root"
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$cache/root"; done
[[ -e $cache/root/$file ]] || {
  echo "unpack-debs: the packages $* have no $file" >&2
  exit 2
}
echo "$key" >"$cache/ready"
echo "$cache/root"
