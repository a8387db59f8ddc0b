#!/usr/bin/env bash
# `npm run package`: builds the Debian package cni-ts_<version>_<arch>.deb with dpkg-deb, into
# OUT_DIR (default dist/). The package holds:
#   /usr/lib/cni-ts/<version>/           the tree of scripts/stage.sh (launchers, bundles, run-time node_modules)
#   /usr/lib/cni-ts/current -> <version> so an upgrade switches versions with dpkg's rename of one link
#   /opt/cni/bin/<name>                  relative links to ../../../usr/lib/cni-ts/current/bin/<name>,
#                                        for every executable in scripts/plugins.mjs (relative, so the
#                                        tree also works unpacked under another root)
#   /lib/systemd/system/*.service        the units of systemd/ (and the dhcp daemon's .socket)
# Depends: nodejs (>= 20), libnftables1, dnsmasq-base. The architecture is the build machine's: the
# native modules (koffi, netlink) are the prebuilt binaries npm picked for it.
# Usage: bash scripts/package.sh [OUT_DIR]    (CNI_TS_SKIP_BUILD=1: package dist/ as built)
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "package.sh: $*" >&2; exit 1; }
command -v dpkg-deb >/dev/null || die "dpkg-deb is needed (Debian package dpkg)"

out="$(realpath -m "${1:-dist}")"
version="$(node -p "require('./package.json').version")"
arch="$(dpkg --print-architecture)"
lib=/usr/lib/cni-ts
units=(cni-ts-nftables-reload.service cni-ts-firewalld-reload.service cni-ts-dhcp.socket cni-ts-dhcp.service cni-ts-workers.socket cni-ts-workers.service)

root="$(mktemp -d "${TMPDIR:-/tmp}/cni-ts-deb.XXXXXX")"
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"

bash scripts/stage.sh "$root$lib/$version" "$lib/$version"
ln -s "$version" "$root$lib/current"

mapfile -t plugins < <(ls "$root$lib/$version/bin")
mkdir -p "$root/opt/cni/bin"
for name in "${plugins[@]}"; do
  ln -s "../../..$lib/current/bin/$name" "$root/opt/cni/bin/$name"
done

mkdir -p "$root/lib/systemd/system"
for unit in "${units[@]}"; do
  sed "s|@LIBDIR@|$lib|g" "systemd/$unit" >"$root/lib/systemd/system/$unit"
  chmod 644 "$root/lib/systemd/system/$unit"
done

# the licences of what the package ships, read from the modules themselves
doc="$root/usr/share/doc/cni-ts"
mkdir -p "$doc"
{
  echo "cni-ts $version: CNI plugins in TypeScript on Node.js."
  echo "Licence: $(node -p "require('./package.json').license")."
  echo
  echo "libnftables (GPL-2.0, Debian package libnftables1) is not shipped: the plugins load it at run"
  echo "time through koffi, and fall back to the nft program when it is missing."
  echo
  echo "Node modules shipped under $lib/$version/node_modules (and bundled into dist/):"
  (cd "$root$lib/$version" && node -e '
    const { readdirSync, readFileSync, existsSync } = require("fs");
    const seen = [];
    const walk = (dir) => {
      if (!existsSync(dir)) return;
      for (const name of readdirSync(dir)) {
        if (name.startsWith(".")) continue;
        if (name.startsWith("@")) { walk(`${dir}/${name}`); continue; }
        const pkg = JSON.parse(readFileSync(`${dir}/${name}/package.json`, "utf8"));
        seen.push(`  ${pkg.name} ${pkg.version}: ${pkg.license ?? "see its package"}`);
        walk(`${dir}/${name}/node_modules`);
      }
    };
    walk("node_modules");
    console.log(seen.sort().join("\n"));
  ')
} >"$doc/copyright"
chmod 644 "$doc/copyright"

mkdir -p "$root/DEBIAN"
for script in preinst postinst prerm postrm; do
  sed -e "s|@PLUGINS@|${plugins[*]}|g" -e "s|@UNITS@|${units[*]}|g" "scripts/deb/$script" >"$root/DEBIAN/$script"
  chmod 755 "$root/DEBIAN/$script"
done
cat >"$root/DEBIAN/control" <<EOF
Package: cni-ts
Version: $version
Architecture: $arch
Maintainer: ${DEB_MAINTAINER:-cni-ts developers <cni-ts@invalid>}
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: nodejs (>= 20), libnftables1, dnsmasq-base
Suggests: nftables
Section: net
Priority: optional
Description: CNI plugins in TypeScript on Node.js
 Container network plugins for Podman, containerd, CRI-O and Kubernetes:
 ${plugins[*]}.
 They are linked into /opt/cni/bin; the files live in $lib. nftables rules are
 applied in-process through libnftables. The systemd units re-apply the rules
 after nftables.service restarts or reloads and after firewalld reloads, and
 run the dhcp IPAM plugin's daemon (socket-activated).
EOF
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/cni-ts_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb ($(du -k "$deb" | cut -f1) KiB)"
