#!/usr/bin/env bash
# Boots the kernel lab: Debian's kernel under qemu-system-x86_64 (software emulation, or KVM when
# /dev/kvm works), with the initramfs of build-initramfs.sh, runs test/lab/run.mjs inside and
# collects its results. No disk, and one NIC that reaches nothing (for host-device's cases): the
# guest's only channels are two serial ports, written to files here (console.log: kernel and runner
# messages; results.jsonl: one JSON line per event and case, see test/lab/run.mjs).
#   run.sh [--filter REGEX] [--out DIR] [--timeout SECONDS] [--accel auto|tcg|kvm]
# Exit: 0 every case passed; 1 a case failed; 2 the lab itself failed (no qemu, no kernel, the
# guest did not finish). Needs a built suite (npm run build). docs/development.md, "Kernel lab".
set -euo pipefail
# shellcheck source=scripts/lab/common.sh source-path=SCRIPTDIR
source "$(dirname "$0")/common.sh"

filter=''
out=''
timeout_s="${CNI_TS_LAB_TIMEOUT:-480}"
accel="${CNI_TS_LAB_ACCEL:-auto}"
while (($#)); do
  case "$1" in
  --filter) filter="$2" && shift 2 ;;
  --out) out="$2" && shift 2 ;;
  --timeout) timeout_s="$2" && shift 2 ;;
  --accel) accel="$2" && shift 2 ;;
  *) lab_die "unknown argument $1 (run.sh [--filter REGEX] [--out DIR] [--timeout SECONDS] [--accel auto|tcg|kvm])" ;;
  esac
done
if ! [[ $timeout_s =~ ^[0-9]+$ ]] || ((timeout_s < 60)); then lab_die "--timeout takes a number of seconds, 60 or more"; fi

command -v qemu-system-x86_64 >/dev/null || lab_apt_install qemu-system-x86
command -v qemu-system-x86_64 >/dev/null || lab_die "qemu-system-x86_64 is missing after installing qemu-system-x86"
t0=$(date +%s%N)
kdir="$(bash "$LAB_DIR/kernel.sh")"
image="$(bash "$LAB_DIR/build-initramfs.sh")"

# the last ten runs' logs are kept in the cache
find "$LAB_CACHE/runs" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' 2>/dev/null | sort -rn | tail -n +10 | cut -d' ' -f2- | xargs -r rm -rf
[[ -n $out ]] || out="$LAB_CACHE/runs/$(date +%Y%m%d-%H%M%S)-$$"
mkdir -p "$out"
rm -f "$out/console.log" "$out/results.jsonl" "$out/qemu.log" "$out/summary.json"

# KVM only when it works: /dev/kvm opens, and a kernel started under it prints its first line
# within 10 s (in a sandbox /dev/kvm can open and still run nothing). The verdict is kept per boot
# of the host. Otherwise software emulation (TCG), as in CI.
kvm_works() {
  [[ -c /dev/kvm ]] && { exec 3<>/dev/kvm; } 2>/dev/null || return 1
  exec 3>&-
  local boot verdict probe pid i
  boot="$(cat /proc/sys/kernel/random/boot_id)"
  verdict="$(cat "$LAB_CACHE/kvm-verdict" 2>/dev/null || true)"
  if [[ ${verdict% *} != "$boot" ]]; then
    probe="$(mktemp)"
    qemu-system-x86_64 -nodefaults -no-user-config -display none -monitor none -no-reboot -nic none -accel kvm -cpu host -m 256 \
      -kernel "$kdir/vmlinuz" -append "console=ttyS0 panic=-1" -serial "file:$probe" </dev/null >/dev/null 2>&1 &
    pid=$!
    for ((i = 0; i < 50; i++)); do
      [[ -s $probe ]] && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [[ -s $probe ]]; then verdict="$boot yes"; else verdict="$boot no"; fi
    rm -f "$probe"
    echo "$verdict" >"$LAB_CACHE/kvm-verdict"
    [[ $verdict == *yes ]] || lab_log "/dev/kvm opens but runs nothing here: software emulation (TCG)"
  fi
  [[ $verdict == *yes ]]
}
case "$accel" in
auto) if kvm_works; then accel_args=(-accel kvm -accel tcg); else accel_args=(-accel tcg); fi ;;
kvm) accel_args=(-accel kvm) ;;
tcg) accel_args=(-accel tcg) ;;
*) lab_die "--accel is auto, tcg or kvm" ;;
esac
# the guest's watchdog powers off before the host's timeout kills qemu
guest_timeout=$((timeout_s - 30))
cmdline="console=ttyS0 quiet panic=-1 LAB_TIMEOUT=$guest_timeout LAB_FILTER_B64=$(printf '%s' "$filter" | base64 -w0)"
# one NIC, a physical device to the guest (virtio_net, no rtnl_link_ops: the kernel gives it back to
# the initial namespace when a namespace holding it goes) for host-device's cases. It reaches nothing:
# user-mode networking with restrict=on only answers the guest's pings of its gateway 10.0.2.2
nic='user,model=virtio-net-pci,restrict=on,ipv6=off'
qemu=(qemu-system-x86_64 -nodefaults -no-user-config -display none -monitor none -no-reboot -nic "$nic"
  -machine pc -cpu max "${accel_args[@]}" -smp "${CNI_TS_LAB_CPUS:-1}" -m "${CNI_TS_LAB_MEMORY:-1024}"
  -kernel "$kdir/vmlinuz" -initrd "$image" -append "$cmdline"
  -serial "file:$out/console.log" -serial "file:$out/results.jsonl")
t1=$(date +%s%N)
lab_log "booting $(cat "$kdir/package") (${accel_args[*]}), results in $out"
status=0
timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"$out/qemu.log" 2>&1 || status=$?
t2=$(date +%s%N)
echo "${qemu[*]}" >"$out/qemu.cmd"

# the summary (summary.json), the report on stderr and the exit code, from the results
exec node "$LAB_DIR/summary.mjs" "$out" "$status" "$(((t1 - t0) / 1000000))" "$(((t2 - t1) / 1000000))" "${accel_args[*]}"
