#!/usr/bin/env bash
# Benchmark beside the reference plugins; installs what is missing first. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
node scripts/bench.mjs "$@"
echo
node scripts/bench-portmap.mjs
echo
node scripts/bench-dnsname.mjs
echo
node scripts/bench-chain.mjs
echo
node scripts/bench-dhcp.mjs
