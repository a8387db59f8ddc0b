#!/usr/bin/env bash
# The kernel lab's kernel: Debian's own (the package linux-image-amd64 depends on), fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` into the lab's cache, never installed: nothing
# lands in the host's /boot, and no initramfs-tools or bootloader hook runs in this container.
# Keeps vmlinuz and the modules the lab needs (with their dependencies), and writes their
# modules.dep/modules.alias with busybox depmod. Prints the prepared directory.
#   kernel.sh [--refresh]   --refresh: look up linux-image-amd64 again even when a kernel is cached
set -euo pipefail
# shellcheck source=scripts/lab/common.sh source-path=SCRIPTDIR
source "$(dirname "$0")/common.sh"

# The modules the lab may load, as paths under lib/modules/<version>/kernel (find -path patterns):
# the link types of the interface plugins, the bridge, everything nftables and tc can ask for
# (the kernel loads those on demand through modprobe and modules.alias).
MODULE_PATHS=(
  'drivers/net/dummy.ko' 'drivers/net/veth.ko' 'drivers/net/ipvlan/*' 'drivers/net/macvlan.ko' 'drivers/net/macvtap.ko'
  'drivers/net/vrf.ko' 'drivers/net/ifb.ko' 'drivers/net/tun.ko' 'drivers/net/tap.ko' 'drivers/net/vxlan/*'
  'net/8021q/*' 'net/bridge/*' 'net/netfilter/*' 'net/ipv4/netfilter/*' 'net/ipv6/netfilter/*' 'net/sched/*'
  # libcrc32c (nf_tables, nf_nat) asks the crypto API for crc32c when it loads
  'crypto/crc32c_generic.ko' 'arch/x86/crypto/crc32c-intel.ko'
  # the guest's NIC (run.sh: virtio-net-pci), a physical device for host-device's cases: its PCI
  # transport and driver (virtio_net brings net_failover, failover, virtio and virtio_ring along)
  'drivers/virtio/virtio_pci.ko' 'drivers/net/virtio_net.ko' 'drivers/net/net_failover.ko' 'net/core/failover.ko'
)
# a prepared kernel is kept while this list stays the same
modules_key="$(printf '%s\n' "${MODULE_PATHS[@]}" | sha256sum | cut -c1-12)"


refresh=0
[[ ${1:-} == --refresh ]] && refresh=1
mkdir -p "$LAB_CACHE/kernel"
current="$LAB_CACHE/kernel/current"
if ((!refresh)) && [[ -f $current/ready && $(cat "$current/modules-key" 2>/dev/null) == "$modules_key" ]]; then
  readlink -f "$current"
  exit 0
fi
command -v busybox >/dev/null || lab_apt_install busybox-static
# one preparer at a time (two test runs may start together)
exec 9>"$LAB_CACHE/kernel/.lock"
flock -w 900 9 || lab_die "another kernel.sh holds $LAB_CACHE/kernel/.lock"

resolve() { apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'; }
pkg="$(resolve)"
if [[ -z $pkg ]]; then
  timeout 600 apt-get update -qq || lab_die "apt-get update failed"
  pkg="$(resolve)"
fi
[[ -n $pkg ]] || lab_die "apt cannot resolve linux-image-amd64 to a kernel package"
version="$(apt-cache policy "$pkg" | awk '$1 == "Candidate:" { print $2 }')"
out="$LAB_CACHE/kernel/${pkg}_${version}_$modules_key"
if [[ ! -f $out/ready ]]; then
  lab_log "fetching $pkg $version"
  work="$(mktemp -d "$LAB_CACHE/kernel/.work.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && timeout 600 apt-get download -qq -o APT::Sandbox::User=root "$pkg=$version") || lab_die "apt-get download $pkg failed"
  dpkg-deb -x "$work"/*.deb "$work/root"
  rm -f "$work"/*.deb
  kver="$(ls "$work/root/lib/modules")"
  [[ -f $work/root/boot/vmlinuz-$kver ]] || lab_die "$pkg has no /boot/vmlinuz-$kver"
  busybox depmod -b "$work/root" "$kver"
  src="$work/root/lib/modules/$kver"
  stage="$work/out"
  mkdir -p "$stage/lib/modules/$kver"
  cp "$work/root/boot/vmlinuz-$kver" "$stage/vmlinuz"
  cp "$work/root/boot/config-$kver" "$stage/config"
  # the listed modules and everything they depend on, per the full tree's modules.dep
  (cd "$src" && for p in "${MODULE_PATHS[@]}"; do find kernel -path "kernel/$p" -name '*.ko'; done) | sort -u >"$work/wanted"
  awk -F': *' 'NR == FNR { want[$1] = 1; next } ($1 in want) { print $1; n = split($2, d, " "); for (i = 1; i <= n; i++) print d[i] }' \
    "$work/wanted" "$src/modules.dep" | sort -u >"$work/closure"
  tar -cf - -C "$src" -T "$work/closure" | tar -xf - -C "$stage/lib/modules/$kver"
  cp "$src/modules.builtin" "$src/modules.builtin.modinfo" "$src/modules.order" "$stage/lib/modules/$kver/"
  busybox depmod -b "$stage" "$kver"
  echo "$kver" >"$stage/release"
  echo "$pkg $version" >"$stage/package"
  echo "$modules_key" >"$stage/modules-key"
  touch "$stage/ready"
  rm -rf "$out"
  mv "$stage" "$out"
  lab_log "kernel $kver: $(wc -l <"$work/closure") modules kept in $out"
fi
ln -sfn "$(basename "$out")" "$current.tmp"
mv -T "$current.tmp" "$current"
# older kernels and lists go
find "$LAB_CACHE/kernel" -mindepth 1 -maxdepth 1 -type d -name 'linux-image-*' ! -name "$(basename "$out")" -exec rm -rf {} +
echo "$out"
