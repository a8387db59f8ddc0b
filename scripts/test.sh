#!/usr/bin/env bash
# The whole test suite: type check, unit, privileged and integration tests. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc --noEmit -p .
npx vitest run "$@"
