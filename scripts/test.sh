#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the whole test suite through CTest
# (unit, integration, e2e and slow tests). Extra arguments go to ctest, e.g. -L unit.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/install-web.sh
cmake --preset ci >/dev/null
cmake --build --preset ci
ctest --preset ci "$@"
