#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the whole test suite through CTest
# (unit, integration, e2e and slow tests). Extra arguments go to ctest, e.g. -L unit.
#
# The PostgreSQL tests (tests/store/pg_*.cpp, copy_test.cpp) need a cluster: this script starts a
# private one on loopback in a fresh temporary directory (scripts/pg-cluster.sh), hands its URL to
# the tests as WANGGE_TEST_PG_URL, and stops and removes it when it ends, whatever ctest returned.
# A WANGGE_TEST_PG_URL already set is used as it is and no cluster is started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/install-web.sh
cmake --preset ci >/dev/null
cmake --build --preset ci

if [[ -z ${WANGGE_TEST_PG_URL:-} ]]; then
    pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/wangge-pg.XXXXXX")
    stop_cluster() {
        bash scripts/pg-cluster.sh stop "$pg_dir" >/dev/null 2>&1 || true
        rm -rf "$pg_dir"
    }
    trap stop_cluster EXIT
    WANGGE_TEST_PG_URL=$(bash scripts/pg-cluster.sh start "$pg_dir")
    export WANGGE_TEST_PG_URL
    echo "test.sh: PostgreSQL for the tests at $WANGGE_TEST_PG_URL"
fi

status=0
ctest --preset ci "$@" || status=$?
exit "$status"
