#!/usr/bin/env bash
# Builds the kernel lab's initramfs and prints its path. Two gzip'd newc cpio segments, concatenated
# (the kernel unpacks one after the other):
#   base   busybox (busybox-static), iproute2 (ip, bridge), nftables (nft, libnftables), this host's
#          node, the reference plugins the side-by-side cases run (ipvlan, vlan and host-local from
#          containernetworking-plugins, in /usr/lib/cni), the shared libraries of all of them and of
#          the native addons (ldd), /etc bits, the kernel's modules with modules.dep/alias, and /init
#          (scripts/lab/init)
#   suite  the built suite in /opt/cni-ts: package.json, bin/, dist/ (bundles), the
#          run-time node_modules (koffi and netlink with their native binaries), and test/lab/
# Each segment is cached in $LAB_CACHE/initramfs under a hash of its inputs' contents, so a run
# after a rebuild of the suite packs only the suite again. Needs a built suite (npm run build).
set -euo pipefail
# shellcheck source=scripts/lab/common.sh source-path=SCRIPTDIR
source "$(dirname "$0")/common.sh"

kdir="$(bash "$LAB_DIR/kernel.sh")"
kver="$(cat "$kdir/release")"
[[ -r $LAB_REPO/dist/bridge.js && -x $LAB_REPO/bin/bridge ]] || lab_die "the suite is not built: run npm run build first"
out="$LAB_CACHE/initramfs"
mkdir -p "$out"
exec 9>"$out/.lock"
flock -w 600 9 || lab_die "another build holds $out/.lock"
work="$(mktemp -d "$out/.work.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# hash of the named files' paths and contents, plus extra text on stdin
content_hash() { { cat; sha256sum "$@"; } | sha256sum | cut -c1-16; }

# pack DIR into the segment file OUT (newc cpio, gzip), atomically
pack() {
  (cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z | busybox cpio -o -0 -H newc -R 0:0 --renumber-inodes --ignore-devno 2>/dev/null) | gzip -1 >"$2.tmp"
  mv "$2.tmp" "$2"
}

# ---- base segment
tools=()
for t in busybox ip bridge nft node; do
  p="$(command -v "$t")" || lab_die "$t is not installed (scripts/setup.sh installs it)"
  tools+=("$(readlink -f "$p")")
done
addons=("$LAB_REPO"/node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node "$LAB_REPO"/node_modules/netlink/prebuilds/linux-x64/node.napi.node)
# the reference plugins (scripts/setup.sh installs containernetworking-plugins); a case that needs a missing one fails saying so
reference=()
for p in ipvlan vlan vrf host-local; do
  if [[ -x /usr/lib/cni/$p ]]; then reference+=("/usr/lib/cni/$p"); fi
done
# the libraries each binary needs, as ldd resolves them; libnftables is also opened by koffi at run time
mapfile -t libs < <(for f in "${tools[@]}" "${addons[@]}" "${reference[@]}"; do ldd "$f" 2>/dev/null || true; done |
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
etc_files=(/etc/services /etc/protocols)
mapfile -t iproute_etc < <(find /etc/iproute2 -type f 2>/dev/null | sort)
base_hash="$(printf '%s\n' "$kdir" "$(cat "$kdir/package")" | content_hash "$LAB_DIR/init" "$0" "$LAB_DIR/common.sh" "$LAB_DIR/kernel.sh" \
  "${tools[@]}" "${reference[@]}" "${libs[@]}" "${etc_files[@]}" "${iproute_etc[@]}")"
base="$out/base-$base_hash.cpio.gz"
if [[ ! -f $base ]]; then
  s="$work/base"
  mkdir -p "$s"/usr/{bin,sbin,lib,lib64} "$s"/{proc,sys,dev,run,tmp,root,etc,opt,var}
  for d in bin sbin lib lib64; do ln -s "usr/$d" "$s/$d"; done
  ln -s ../run "$s/var/run"
  cp "${tools[0]}" "$s/usr/bin/busybox"
  cp "${tools[1]}" "$s/usr/sbin/ip"
  cp "${tools[2]}" "$s/usr/sbin/bridge"
  cp "${tools[3]}" "$s/usr/sbin/nft"
  cp "${tools[4]}" "$s/usr/bin/node"
  mkdir -p "$s/usr/lib/cni"
  for p in "${reference[@]}"; do cp "$p" "$s/usr/lib/cni/"; done
  for l in "${libs[@]}"; do
    mkdir -p "$s$(dirname "$l")"
    cp -L "$l" "$s$l"
  done
  # busybox applets where no real tool sits (ip, bridge stay iproute2's)
  while read -r applet; do
    [[ -e $s/$applet || -L $s/$applet ]] || ln -s /usr/bin/busybox "$s/$applet"
  done < <(busybox --list-full)
  cp "${etc_files[@]}" "$s/etc/"
  [[ -d /etc/iproute2 ]] && cp -r /etc/iproute2 "$s/etc/"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$s/etc/passwd"
  printf 'root:x:0:\n' >"$s/etc/group"
  printf '127.0.0.1 localhost lab\n::1 localhost\n' >"$s/etc/hosts"
  mkdir -p "$s/usr/lib/modules"
  cp -r "$kdir/lib/modules/$kver" "$s/usr/lib/modules/"
  install -m 0755 "$LAB_DIR/init" "$s/init"
  pack "$s" "$base"
  lab_log "base segment: $(du -h "$base" | cut -f1) ($base)"
fi

# ---- suite segment: the files a plugin run needs (dependencies of the package, not devDependencies)
cd "$LAB_REPO"
mapfile -t packages < <(node -e '
  const lock = require("./package-lock.json");
  for (const [dir, p] of Object.entries(lock.packages))
    if (dir && !p.dev && !dir.includes("@types/") && require("fs").existsSync(dir)) console.log(dir);
')
mapfile -t suite_files < <({
  printf '%s\n' package.json
  find bin -type f
  [[ ! -d launch ]] || find launch -type f
  find dist -maxdepth 1 -name '*.js' -type f
  for p in "${packages[@]}"; do find "$p" -path "$p/node_modules" -prune -o -type f -print; done
  find test/lab conf-examples -type f
} | LC_ALL=C sort -u)
suite_hash="$(echo suite | content_hash "${suite_files[@]}")"
suite="$out/suite-$suite_hash.cpio.gz"
if [[ ! -f $suite ]]; then
  s="$work/suite/opt/cni-ts"
  mkdir -p "$s"
  printf '%s\n' "${suite_files[@]}" | tar -cf - -T - | tar -xf - -C "$s"
  pack "$work/suite" "$suite"
  lab_log "suite segment: $(du -h "$suite" | cut -f1) ($suite)"
fi

image="$out/initrd-$base_hash-$suite_hash.img"
if [[ ! -f $image ]]; then
  cat "$base" "$suite" >"$image.tmp"
  mv "$image.tmp" "$image"
fi
touch "$image" "$base" "$suite"
# keep the newest few of each kind
for kind in base suite initrd; do
  find "$out" -maxdepth 1 -name "$kind-*" -printf '%T@ %p\n' | sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -f
done
echo "$image"
