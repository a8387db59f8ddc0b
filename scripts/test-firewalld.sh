#!/usr/bin/env bash
# firewalld for the tests of the firewall plugin's firewalld backend: Debian's firewalld and
# python3-firewall, fetched with `apt-get download` and unpacked with `dpkg-deb -x` into a cache,
# never installed: no firewalld.service is enabled or started, and the machine's firewall is never
# touched. The tests run it from there, in a throw-away network namespace on a private D-Bus
# (test/helpers/firewalld.ts). Its Python libraries (python3-dbus, python3-gi, python3-nftables)
# are installed by scripts/setup.sh. Prints the unpacked directory.
set -euo pipefail
CACHE="${CNI_TS_FIREWALLD_CACHE:-/var/cache/cni-ts-test/firewalld}"
PACKAGES=(firewalld python3-firewall)

if [[ -f $CACHE/ready ]]; then
  echo "$CACHE"
  exit 0
fi
mkdir -p "$CACHE"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt-get download writes to the current directory, as the _apt user where it can
chmod 755 "$work"
(cd "$work" && timeout 600 apt-get download -qq "${PACKAGES[@]}" 2>/dev/null) || {
  timeout 600 apt-get update -qq
  (cd "$work" && timeout 600 apt-get download -qq "${PACKAGES[@]}")
}
rm -rf "$CACHE/root"
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$CACHE/root"; done
[[ -x $CACHE/root/usr/sbin/firewalld ]] || { echo "test-firewalld: no usr/sbin/firewalld in the packages" >&2; exit 2; }
touch "$CACHE/ready"
echo "$CACHE"
