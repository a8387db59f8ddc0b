# shellcheck shell=bash disable=SC2034
# Sourced by the kernel lab's scripts (docs/development.md, "Kernel lab").
# LAB_CACHE holds what the lab fetches and builds (the kernel, initramfs images, run logs): never in git.
LAB_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LAB_CACHE="${CNI_TS_LAB_CACHE:-/var/cache/cni-ts-lab}"
LAB_DIR="$LAB_REPO/scripts/lab"

lab_log() { echo "lab: $*" >&2; }
lab_die() {
  echo "lab: error: $*" >&2
  exit 2
}

# apt-get install, non-interactive and without recommends, of the packages that are missing (as scripts/setup.sh does)
lab_apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || lab_die "needs root to install ${missing[*]}"
  lab_log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq || lab_die "apt-get update failed"
  timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || lab_die "apt-get install ${missing[*]} failed"
}
