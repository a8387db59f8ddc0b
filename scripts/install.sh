#!/usr/bin/env bash
# Installs the suite for a container runtime from this checkout, and only what the plugins need to
# run: Node.js >= 20 is checked (not installed), libnftables1 and dnsmasq-base are apt-installed when
# missing, and nothing else (no Podman, runc, busybox, reference plugins or test tools: this script
# does not run scripts/setup.sh).
#
# Usage (root):
#   bash scripts/install.sh [--force] [BIN_DIR]    install or upgrade
#   bash scripts/install.sh --uninstall [BIN_DIR]  remove exactly what the install recorded
# BIN_DIR is the runtime's plugin directory (default /opt/cni/bin).
#
# Layout, under LIB_DIR (default /usr/lib/cni-ts, or $CNI_TS_LIB_DIR):
#   <version>-<git commit>-<UTC time>/  one installed version (bin/, dist/, node_modules/, libexec/)
#   current -> <version>…               the version in use
#   manifest                            what this script installed, for --uninstall
#   backup/<name>                       plugins of other suites replaced under --force
# BIN_DIR/<name> -> LIB_DIR/current/bin/<name> for every executable in scripts/plugins.mjs, and
# systemd units (systemd/*.service, *.socket) in /etc/systemd/system (or $CNI_TS_UNIT_DIR).
#
# An upgrade stages the new version beside the old one, then switches `current` with one rename, so
# no plugin link ever points at nothing; the previous version stays until the next install (a plugin
# started before the switch may still load modules from it), older ones are removed.
#
# A file in BIN_DIR that is not our link (the reference plugins' bridge, say) is never replaced
# silently: the install stops and names it. With --force it is copied to LIB_DIR/backup/ first, and
# --uninstall puts it back.
#
# Environment: CNI_TS_LIB_DIR, CNI_TS_UNIT_DIR; CNI_TS_SKIP_BUILD=1 installs the checkout's dist/ as
# built (CNI_TS_SKIP_SETUP=1 too, its old name); CNI_TS_SKIP_APT=1; CNI_TS_SYSTEM_PATH, the PATH in
# which node must be found (default the one systemd gives services, which runtimes pass on).
# systemctl is called only when the units go to /etc/systemd/system and systemd is running.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "install.sh: $*" >&2; exit 1; }
warn() { echo "install.sh: warning: $*" >&2; }
usage() { sed -n '/^# Usage/,/^# BIN_DIR/p' "$0" | sed 's/^# \{0,1\}//'; }

mode=install force=0 bin_arg=
for arg in "$@"; do
  case "$arg" in
    --uninstall) mode=uninstall ;;
    --force) force=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $arg" ;;
    *) [ -z "$bin_arg" ] || die "one plugin directory only"; bin_arg="$arg" ;;
  esac
done

LIB_DIR="$(realpath -m "${CNI_TS_LIB_DIR:-/usr/lib/cni-ts}")"
UNIT_DIR="$(realpath -m "${CNI_TS_UNIT_DIR:-/etc/systemd/system}")"
MANIFEST="$LIB_DIR/manifest"
UNITS=(cni-ts-nftables-reload.service cni-ts-firewalld-reload.service cni-ts-dhcp.socket cni-ts-dhcp.service cni-ts-workers.socket cni-ts-workers.service)
SYSTEM_PATH="${CNI_TS_SYSTEM_PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}"
[ "$LIB_DIR" != / ] || die "CNI_TS_LIB_DIR must not be /"

# systemctl only for the machine's own unit directory while systemd runs: never for a test's temp dir
use_systemctl() { [ "$1" = /etc/systemd/system ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

# one install or uninstall at a time
lock() {
  mkdir -p "$LIB_DIR"
  exec 9>"$LIB_DIR/.lock"
  flock -n 9 || die "another install.sh is running on $LIB_DIR"
}

# the manifest as shell arrays: m_version (current), m_versions (kept), m_bin_dir, m_unit_dir, m_links, m_units, m_backups
read_manifest() {
  m_version='' m_bin_dir='' m_unit_dir='' m_versions=() m_links=() m_units=() m_backups=()
  [ -f "$MANIFEST" ] || return 0
  local key value
  while IFS=$'\t' read -r key value; do
    case "$key" in
      version) m_version="$value" ;;
      keep) m_versions+=("$value") ;;
      bin_dir) m_bin_dir="$value" ;;
      unit_dir) m_unit_dir="$value" ;;
      link) m_links+=("$value") ;;
      unit) m_units+=("$value") ;;
      backup) m_backups+=("$value") ;;
    esac
  done <"$MANIFEST"
}

# whether $1 is a symlink into LIB_DIR (ours); anything else at a plugin's name is someone else's
ours() { [ -L "$1" ] && case "$(readlink "$1")" in "$LIB_DIR"/*) true ;; *) false ;; esac; }

# replaces $2 by a symlink to $1 in one rename
link_atomically() {
  local tmp
  tmp="$(dirname "$2")/.$(basename "$2").cni-ts-new"
  ln -sfn "$1" "$tmp"
  mv -T "$tmp" "$2"
}

contains() { local x want="$1"; shift; for x in "$@"; do [ "$x" = "$want" ] && return 0; done; return 1; }

check_node() {
  local node version
  node="$(PATH="$SYSTEM_PATH" command -v node)" ||
    die "Node.js >= 20 is needed and there is no node in $SYSTEM_PATH, the PATH container runtimes run plugins with (each plugin starts with #!/usr/bin/env node). Install Node.js 20 or later there (Debian 13: apt install nodejs; Debian 12: nodejs 20 from NodeSource)"
  version="$("$node" -p process.versions.node 2>/dev/null)" || die "cannot run $node"
  [ "${version%%.*}" -ge 20 ] 2>/dev/null ||
    die "Node.js >= 20 is needed: $node is $version (the plugins run with the first node in $SYSTEM_PATH)"
}

ensure_packages() {
  [ "${CNI_TS_SKIP_APT:-}" != 1 ] || return 0
  if ! command -v dpkg-query >/dev/null; then
    warn "not a Debian system: make sure libnftables (libnftables.so.1) and dnsmasq are installed"
    return 0
  fi
  # libnftables1: the plugins apply their nftables rules in-process through it (the nft binary is a
  # fallback only, so the nftables package is not needed); dnsmasq-base: the dnsname plugin's server
  local pkg missing=()
  for pkg in libnftables1 dnsmasq-base; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    echo "install.sh: apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# $1: the current version; keep, links, backups: arrays of what else to list
write_manifest() {
  local tmp="$MANIFEST.new" x
  {
    printf '# written by scripts/install.sh; `install.sh --uninstall` removes exactly what is listed\n'
    printf 'version\t%s\n' "$1"
    for x in "${keep[@]}"; do printf 'keep\t%s\n' "$x"; done
    printf 'bin_dir\t%s\n' "$BIN_DIR"
    printf 'unit_dir\t%s\n' "$UNIT_DIR"
    for x in "${links[@]}"; do printf 'link\t%s\n' "$x"; done
    for x in "${UNITS[@]}"; do printf 'unit\t%s\n' "$x"; done
    for x in "${backups[@]}"; do printf 'backup\t%s\n' "$x"; done
  } >"$tmp"
  sync "$tmp"
  mv -T "$tmp" "$MANIFEST"
}

# the manifest, which must name BIN_DIR (or none)
read_manifest_for_bin_dir() {
  read_manifest
  if [ -n "$m_bin_dir" ] && [ "$m_bin_dir" != "$BIN_DIR" ]; then
    die "installed with the plugin directory $m_bin_dir: run install.sh --uninstall first to move it to $BIN_DIR"
  fi
}

install_suite() {
  BIN_DIR="$(realpath -m "${bin_arg:-/opt/cni/bin}")"
  check_node
  command -v flock >/dev/null || die "flock (util-linux) is needed"
  if [ -d "$LIB_DIR" ] && [ ! -f "$MANIFEST" ] && find "$LIB_DIR" -mindepth 1 -maxdepth 1 ! -name .lock | grep -q .; then
    die "$LIB_DIR was not installed by this script (the cni-ts Debian package? then: apt remove cni-ts), leaving it alone"
  fi
  read_manifest_for_bin_dir
  mapfile -t plugins < <(node --input-type=module -e "import { PLUGINS } from './scripts/plugins.mjs'; for (const p of PLUGINS) console.log(p.name);")
  ((${#plugins[@]})) || die "scripts/plugins.mjs lists no executable"
  local name p foreign=()
  for name in "${plugins[@]}"; do
    p="$BIN_DIR/$name"
    if { [ -e "$p" ] || [ -L "$p" ]; } && ! ours "$p"; then foreign+=("$name"); fi
  done
  if ((${#foreign[@]})) && [ "$force" != 1 ]; then
    die "not replacing what is not ours in $BIN_DIR: ${foreign[*]} (another suite's plugins, e.g. the reference bridge). Move them away, or run with --force to keep copies in $LIB_DIR/backup/ that --uninstall puts back"
  fi

  # checked again under the lock, which creates LIB_DIR: a refused install leaves nothing
  lock
  read_manifest_for_bin_dir
  ensure_packages

  local commit
  commit="$(git rev-parse --short=12 HEAD 2>/dev/null || echo nogit)"
  [ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit.dirty"
  version="$(node -p "require('./package.json').version")-$commit-$(date -u +%Y%m%dT%H%M%SZ)"
  [ ! -e "$LIB_DIR/$version" ] || version="$version.$$"

  # recorded before anything is created, so that --uninstall after a failure here finds it all
  # (it removes only what exists and links that are ours)
  keep=("$version" "${m_versions[@]}") links=("${m_links[@]}") backups=("${m_backups[@]}")
  for name in "${plugins[@]}"; do contains "$name" "${links[@]}" || links+=("$name"); done
  for name in "${foreign[@]}"; do contains "$name" "${backups[@]}" || backups+=("$name"); done
  write_manifest "${m_version:-$version}"

  # staged beside the versions (one filesystem, so the rename below is atomic), removed on any failure
  stage="$LIB_DIR/.staging-$$"
  trap 'rm -rf "$stage"' EXIT
  rm -rf "$stage"
  bash scripts/stage.sh "$stage" "$LIB_DIR/$version"
  mv -T "$stage" "$LIB_DIR/$version"

  # the units, written before the switch (they name LIB_DIR/current, which already exists on an upgrade)
  mkdir -p "$UNIT_DIR"
  local unit
  for unit in "${UNITS[@]}"; do
    sed "s|@LIBDIR@|$LIB_DIR|g" "systemd/$unit" >"$UNIT_DIR/.$unit.cni-ts-new"
    chmod 644 "$UNIT_DIR/.$unit.cni-ts-new"
    mv -T "$UNIT_DIR/.$unit.cni-ts-new" "$UNIT_DIR/$unit"
  done

  # the switch: one rename of `current`; links that exist already go through it and never dangle
  link_atomically "$version" "$LIB_DIR/current"

  # the links, each replaced in one rename; another suite's file is copied aside first (--force)
  mkdir -p "$BIN_DIR"
  for name in "${plugins[@]}"; do
    p="$BIN_DIR/$name"
    if contains "$name" "${foreign[@]}"; then
      mkdir -p "$LIB_DIR/backup"
      # the first backup is the original; a later --force must not replace it with what came after
      [ -e "$LIB_DIR/backup/$name" ] || [ -L "$LIB_DIR/backup/$name" ] || cp -a "$p" "$LIB_DIR/backup/$name"
    fi
    link_atomically "$LIB_DIR/current/bin/$name" "$p"
  done
  # executables the new version no longer has
  for name in "${m_links[@]}"; do
    contains "$name" "${plugins[@]}" && continue
    p="$BIN_DIR/$name"
    ! ours "$p" || rm -f "$p"
    restore_backup "$name"
  done

  # the previous version stays (a plugin that started before the switch may still load from it)
  keep=("$version")
  [ -z "$m_version" ] || [ ! -d "$LIB_DIR/$m_version" ] || [ "$m_version" = "$version" ] || keep+=("$m_version")
  links=("${plugins[@]}")
  write_manifest "$version"
  local dir
  for dir in "$LIB_DIR"/*/; do
    dir="$(basename "$dir")"
    case "$dir" in current | backup) continue ;; esac
    contains "$dir" "${keep[@]}" || rm -rf "${LIB_DIR:?}/$dir"
  done

  if use_systemctl "$UNIT_DIR"; then
    systemctl daemon-reload
    systemctl enable --quiet "${UNITS[@]}"
    # run them now where their service is up (and restart them so that they run the new version)
    ! systemctl is-active --quiet nftables.service || systemctl restart cni-ts-nftables-reload.service || warn "cni-ts-nftables-reload.service failed: journalctl -u cni-ts-nftables-reload"
    ! systemctl is-active --quiet firewalld.service || systemctl restart cni-ts-firewalld-reload.service || warn "cni-ts-firewalld-reload.service failed: journalctl -u cni-ts-firewalld-reload"
    # the dhcp daemon's socket listens from now on; a running daemon restarts into the new version (its leases are on disk)
    systemctl start cni-ts-dhcp.socket || warn "cni-ts-dhcp.socket failed (is the reference's cni-dhcp.socket on /run/cni/dhcp.sock?): journalctl -u cni-ts-dhcp.socket"
    systemctl try-restart cni-ts-dhcp.service || warn "cni-ts-dhcp.service failed: journalctl -u cni-ts-dhcp"
    # the warm workers of the new version (a client of one build never talks to workers of another)
    systemctl start cni-ts-workers.socket || warn "cni-ts-workers.socket failed: journalctl -u cni-ts-workers.socket"
    systemctl restart cni-ts-workers.service || warn "cni-ts-workers.service failed (plugins run without it, slower): journalctl -u cni-ts-workers"
  fi
  echo "installed ${plugins[*]} into $BIN_DIR -> $LIB_DIR/current ($version); units ${UNITS[*]} in $UNIT_DIR"
  ((${#foreign[@]} == 0)) || echo "replaced ${foreign[*]}; the originals are in $LIB_DIR/backup/ and --uninstall puts them back"
}

# puts BIN_DIR/$1 back from LIB_DIR/backup/$1 (in one rename) when the name is free or our link
restore_backup() {
  local name="$1" p="$BIN_DIR/$1" tmp
  [ -e "$LIB_DIR/backup/$name" ] || [ -L "$LIB_DIR/backup/$name" ] || return 0
  if { [ -e "$p" ] || [ -L "$p" ]; } && ! ours "$p"; then
    warn "$p was replaced by someone else: its old copy stays in $LIB_DIR/backup/$name"
    return 0
  fi
  tmp="$BIN_DIR/.$name.cni-ts-restore"
  rm -rf "$tmp"
  cp -a "$LIB_DIR/backup/$name" "$tmp"
  mv -T "$tmp" "$p"
  rm -rf "${LIB_DIR:?}/backup/$name"
  local b rest=()
  for b in "${backups[@]}"; do [ "$b" = "$name" ] || rest+=("$b"); done
  backups=("${rest[@]}")
}

uninstall_suite() {
  [ -f "$MANIFEST" ] || die "nothing to uninstall: there is no $MANIFEST (for the Debian package: apt remove cni-ts)"
  lock
  read_manifest
  BIN_DIR="$m_bin_dir"
  [ -z "$bin_arg" ] || [ "$(realpath -m "$bin_arg")" = "$BIN_DIR" ] || die "installed into $BIN_DIR, not $bin_arg"
  backups=("${m_backups[@]}")

  local unit name p
  if ((${#m_units[@]})) && use_systemctl "$m_unit_dir"; then
    systemctl disable --now --quiet "${m_units[@]}" || warn "could not disable ${m_units[*]}"
  fi
  for unit in "${m_units[@]}"; do rm -f "$m_unit_dir/$unit"; done
  ! use_systemctl "$m_unit_dir" || systemctl daemon-reload

  local kept=()
  for name in "${m_links[@]}"; do
    p="$BIN_DIR/$name"
    if { [ -e "$p" ] || [ -L "$p" ]; } && ! ours "$p"; then
      kept+=("$p")
    elif [ -e "$LIB_DIR/backup/$name" ] || [ -L "$LIB_DIR/backup/$name" ]; then
      restore_backup "$name" # over our link, in one rename
    else
      rm -f "$p"
    fi
  done

  local v
  for v in "${m_versions[@]}"; do rm -rf "${LIB_DIR:?}/$v"; done
  rm -rf "$LIB_DIR/current" "$MANIFEST" "$LIB_DIR"/.staging-* "$LIB_DIR/.lock"
  rmdir "$LIB_DIR/backup" 2>/dev/null || true
  rmdir "$LIB_DIR" 2>/dev/null || warn "$LIB_DIR is not empty: left in place ($(ls -A "$LIB_DIR" | tr '\n' ' '))"
  echo "removed ${m_links[*]} from $BIN_DIR, ${m_units[*]} from $m_unit_dir and $LIB_DIR"
  ((${#kept[@]} == 0)) || echo "left ${kept[*]}: no longer links of ours"
}

if [ "$mode" = uninstall ]; then uninstall_suite; else install_suite; fi
