#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs every test (docs/TESTING.md):
#
#   sanitize  build/sanitize (clang, AddressSanitizer + UBSan, -Werror): every test through ctest,
#             labelled unit, integration, e2e and slow (the fuzz targets' corpora and regressions
#             replayed among the unit tests), then each fuzz target run by scripts/fuzz.sh --ci
#             (a fixed seed and number of inputs: the same inputs on every run).
#   tsan      build/tsan (clang, ThreadSanitizer): the concurrency tests (snapshot swap, tile
#             cache, render pool, group commit, writer, intake, the HTTP server, the password pool).
#   ci        build/ci (gcc, RelWithDebInfo, -Werror, no instrumentation): every test; not run
#             by default (the developers' build; two full builds of every test do not fit CI's
#             time on 2 cores).
#
# WANGGE_TEST_STAGES names the stages to run (default "sanitize tsan"). Extra arguments go to the
# ctest of the sanitize and ci stages, e.g. -L unit.
#
# The PostgreSQL tests need a cluster: this script starts a private one on loopback in a fresh
# temporary directory (scripts/pg-cluster.sh), hands its URL to the tests as WANGGE_TEST_PG_URL,
# and stops and removes it when it ends, whatever ctest returned. A WANGGE_TEST_PG_URL already
# set is used as it is and no cluster is started.
set -euo pipefail
cd "$(dirname "$0")/.."

stages=${WANGGE_TEST_STAGES:-sanitize tsan}
has_stage() { [[ " $stages " == *" $1 "* ]]; }

bash scripts/install-deps.sh
bash scripts/install-web.sh

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
stage_time() { echo "test.sh: stage $1 took $(($(date +%s) - $2)) s"; }

if has_stage ci; then
    started=$(date +%s)
    cmake --preset ci >/dev/null
    cmake --build --preset ci
    ctest --preset ci "$@" || status=1
    stage_time ci "$started"
fi

# What the sanitizers are told: stop at the first report; leaks of Debian's libraries that are
# not Wangge's are suppressed by name (tests/sanitizers/lsan.supp says which and why).
supp=$PWD/tests/sanitizers
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$supp/lsan.supp:print_suppressions=0}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp}

if has_stage sanitize; then
    started=$(date +%s)
    cmake --preset sanitize >/dev/null
    # Every test's executable, the fuzz targets among them (their replays are unit tests), and
    # the binary the e2e tests run.
    ninja -C build/sanitize wangge tests_unit tests_integration tests_e2e tests_slow
    ctest --test-dir build/sanitize --output-on-failure -j 2 --timeout 1500 "$@" || status=1
    bash scripts/fuzz.sh --ci || status=1
    stage_time sanitize "$started"
fi

if has_stage tsan; then
    started=$(date +%s)
    cmake --preset tsan >/dev/null
    concurrency=(grid_snapshot_test tiles_test group_commit_test http_server_test http_intake_test render_test
                 api_balance_test auth_test)
    ninja -C build/tsan "${concurrency[@]}"
    regex="^($(IFS='|'; echo "${concurrency[*]}")):"
    ctest --test-dir build/tsan -R "$regex" --output-on-failure -j 2 --timeout 1500 || status=1
    stage_time tsan "$started"
fi

exit "$status"
