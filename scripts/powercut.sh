#!/usr/bin/env bash
# Power cuts under SQLite and kill -9 under PostgreSQL, against the real wangge binary
# (docs/DURABILITY.md, docs/FAULTS.md), with their figures:
#
#   scripts/powercut.sh [--build DIR] [--rounds N] [--no-postgresql]
#
# Runs tests/durability/powercut_e2e_test (a burst of reports, a rebalance apply and an import,
# each cut at every sync and between them, clean and torn; the synchronous=OFF and NORMAL
# controls, which must lose acknowledged reports; a full disk) and tests/cluster/pg_kill_e2e_test
# (a burst of reports, a rebalance and an import with PostgreSQL killed under them, on a cluster
# of its own), and prints the line of figures each case prints.
#
# --build: the build tree (default build/ci); configured with its preset and the two tests built
#   when missing or out of date.
# --rounds: run the power cuts N times (default 1); round r tears each cut with other seeds
#   (WANGGE_POWERCUT_ROUND=r), trying more orders in which a disk could have written what was
#   not synced.
# --no-postgresql: the SQLite cases only.
# Exits non-zero when a case fails; the full output is then in the log it names.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/ci
rounds=1
postgresql=1
while (($#)); do
    case $1 in
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
    --no-postgresql) postgresql=0; shift ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "powercut.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[[ $rounds =~ ^[0-9]+$ && $rounds -gt 0 ]] || { echo "powercut.sh: --rounds takes a positive number" >&2; exit 2; }

if [[ ! -f $build/build.ninja ]]; then
    preset=$(basename "$build")
    echo "powercut.sh: configuring $build (cmake --preset $preset)"
    cmake --preset "$preset" >/dev/null
fi
targets=(powercut_e2e_test)
((postgresql)) && targets+=(pg_kill_e2e_test)
ninja -C "$build" "${targets[@]}" >/dev/null

log=$(mktemp "${TMPDIR:-/tmp}/wangge-powercut.XXXXXX.log")
status=0
run() { # label, command...
    local label=$1 started
    shift
    started=$(date +%s)
    if "$@" >>"$log" 2>&1; then
        echo "powercut.sh: $label passed in $(($(date +%s) - started)) s"
    else
        echo "powercut.sh: $label FAILED (output in $log)"
        status=1
    fi
}

for ((r = 0; r < rounds; r++)); do
    run "power cuts, round $r" env WANGGE_POWERCUT_ROUND="$r" "$build/tests/durability/powercut_e2e_test"
done
((postgresql)) && run "PostgreSQL killed" "$build/tests/cluster/pg_kill_e2e_test"

echo
grep -E '^(powercut|pgkill): ' "$log" || true
((status == 0)) && rm -f "$log"
exit "$status"
