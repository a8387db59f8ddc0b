#!/usr/bin/env bash
# Installs what the suite needs on a Debian machine, only what is missing, then builds.
# Safe to run again: every step checks first. Needs root for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

# iproute2: ip netns for demo and tests; nftables + libnftables1: rule plumbing;
# iptables: the firewall plugin's FORWARD rules where iptables is in use; iputils-ping: traffic checks;
# containernetworking-plugins, golang-github-containernetworking-plugin-dnsname: the reference plugins for side-by-side tests and benchmarks;
# dnsmasq-base: the DNS server the dnsname plugin runs per network;
# podman + runc + busybox-static + podman-compose: the end-to-end tests with a real runtime (busybox is the container's root filesystem);
# systemd (systemd-analyze) + dbus-daemon + dbus-bin: the tests of the reapply units (verify, and the firewalld watcher on a private bus);
# qemu-system-x86: the kernel lab (scripts/lab/), which boots Debian's kernel for the link types this machine's kernel lacks;
# python3-dbus + python3-gi + gir1.2-glib-2.0 + python3-nftables: the libraries of the firewalld the firewall tests run
#   (firewalld itself is unpacked into a cache, never installed: scripts/unpack-debs.sh);
# gcc + libc6-dev: the build compiles bin/<plugin>, the warm workers' client (lib/workers/client.c), and the tests compile one of another build.
APT_PACKAGES=(gcc libc6-dev iproute2 nftables libnftables1 iptables iputils-ping dnsmasq-base containernetworking-plugins golang-github-containernetworking-plugin-dnsname podman runc busybox-static podman-compose systemd dbus-daemon dbus-bin python3-dbus python3-gi gir1.2-glib-2.0 python3-nftables qemu-system-x86)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# the kernel lab's kernel: the package linux-image-amd64 depends on, fetched (apt-get download) and
# unpacked into the lab's cache, not installed: nothing in the host's /boot, no initramfs-tools or grub hooks
bash scripts/lab/kernel.sh >/dev/null || echo "setup: warning: the kernel lab's kernel could not be fetched; test/integration/kernel-lab.test.ts will fail" >&2

# the firewalld of the firewall plugin's firewalld tests, unpacked into a cache (never installed or started)
bash scripts/unpack-debs.sh firewalld usr/sbin/firewalld firewalld python3-firewall >/dev/null ||
  echo "setup: warning: firewalld could not be fetched; the firewalld tests in test/integration/firewall.test.ts will fail" >&2

# the containerd of the CRI tests (pods as a kubelet makes them), unpacked the same way
bash scripts/unpack-debs.sh containerd usr/bin/containerd containerd >/dev/null ||
  echo "setup: warning: containerd could not be fetched; test/e2e/containerd-cri.test.ts will fail" >&2

# npm ci when node_modules is missing or older than the lock file
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# the native addons ship prebuilt binaries; make sure they load (npm 11 does not run install scripts)
node -e "require('koffi'); require('netlink')"

node scripts/build.mjs
