#!/usr/bin/env bash
# Runs Wangge's libFuzzer targets (tests/fuzz, docs/FUZZING.md) for a bounded time each.
#
#   scripts/fuzz.sh [--seconds N] [--seed S] [--ci] [--merge] [--keep] [TARGET...]
#
# Builds the targets in build/sanitize if needed (cmake --preset sanitize: clang, ASan + UBSan),
# then runs each named target (default: all) for N seconds (default 60) on a copy of its seed
# corpus and regressions in a fresh work directory, with its dictionary, so nothing is written
# into the repository; --merge adds the inputs that found new coverage to
# tests/fuzz/corpus/TARGET (libFuzzer -merge=1: only those that add coverage). Prints per
# target the executions, executions per second, coverage (cov and ft of libFuzzer's last line),
# corpus size and the crash file if one was found (kept with its log under the work directory,
# which --keep keeps in any case). Exits non-zero when any target crashed, leaked, timed out or
# ran out of memory.
#
# --seed: libFuzzer's seed (default: a new one each run). --ci: what CI runs, the same every
# time: seed 1 and a fixed number of inputs per target (about 10 s of each on a quiet 2-core
# machine, at most 30 s), so that a run explores the same inputs wherever it runs and a failure is the
# change's, not the machine's luck. Long, exploring runs are --seconds with a new seed.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(fuzz_geometry fuzz_request fuzz_multipart fuzz_photo fuzz_bodies fuzz_import)
seconds=60
seed=0
ci=0
merge=0
keep=0
targets=()
while (($#)); do
    case $1 in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --seconds=*) seconds=${1#--seconds=}; shift ;;
    --seed) seed=${2:?--seed needs a number}; shift 2 ;;
    --ci) ci=1; seed=1; seconds=30; shift ;;
    --merge) merge=1; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    fuzz_*) targets+=("$1"); shift ;;
    *) echo "fuzz.sh: unknown argument '$1' (targets: ${all_targets[*]})" >&2; exit 2 ;;
    esac
done
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "fuzz.sh: --seconds takes a positive number" >&2; exit 2; }
[[ $seed =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seed takes a number" >&2; exit 2; }
((${#targets[@]})) || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: no target '$t' (targets: ${all_targets[*]})" >&2; exit 2; }
done

# The largest input each target is given: what its code path meets in practice, with room.
max_len() {
    case $1 in
    fuzz_geometry) echo 4096 ;; fuzz_request) echo 2048 ;; fuzz_multipart) echo 8192 ;;
    fuzz_photo) echo 16384 ;; fuzz_bodies) echo 8192 ;; fuzz_import) echo 65536 ;;
    esac
}

# --ci: the inputs each target runs, about 10 s of it on a quiet 2-core machine (docs/FUZZING.md).
ci_runs() {
    case $1 in
    fuzz_geometry) echo 50000 ;; fuzz_request) echo 150000 ;; fuzz_multipart) echo 600000 ;;
    fuzz_photo) echo 700000 ;; fuzz_bodies) echo 10000 ;; fuzz_import) echo 2500 ;;
    esac
}

build=build/sanitize
[[ -f $build/build.ninja ]] || cmake --preset sanitize >/dev/null
ninja -C "$build" "${targets[@]}" >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/wangge-fuzz.XXXXXX")
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
# Leaks inside Debian's libraries (GEOS) that Wangge cannot fix are listed there.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0}
failed=0
rows=()
for t in "${targets[@]}"; do
    dir=$work/$t
    mkdir -p "$dir/corpus" "$dir/tmp"
    cp tests/fuzz/corpus/$t/* "$dir/corpus/" 2>/dev/null || true
    cp tests/fuzz/regressions/$t/* "$dir/corpus/" 2>/dev/null || true
    dict=()
    [[ -f tests/fuzz/$t.dict ]] && dict=(-dict=tests/fuzz/$t.dict)
    bounds=(-max_total_time="$seconds")
    ((seed)) && bounds+=(-seed="$seed")
    ((ci)) && bounds+=(-runs="$(ci_runs "$t")")
    echo "fuzz.sh: $t for ${seconds}s$( ((ci)) && echo " or $(ci_runs "$t") inputs, seed $seed")" >&2
    status=0
    # TMPDIR: the temporary databases of the targets go with the work directory.
    TMPDIR=$dir/tmp "$build/tests/fuzz/$t" "${bounds[@]}" -max_len="$(max_len "$t")" -timeout=10 \
        -rss_limit_mb=2048 "${dict[@]}" -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" \
        >"$dir/log" 2>&1 || status=$?
    last=$(grep -E '^#[0-9]+' "$dir/log" | tail -1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log")
    [[ -n $execs ]] || execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
    corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$last")
    crash=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) | head -1)
    if [[ $status -ne 0 || -n $crash ]]; then
        failed=1
        result="FOUND ${crash:-exit $status} (log $dir/log)"
    else
        result="no crash"
    fi
    rows+=("| $t | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $result |")
    if ((merge)) && [[ $status -eq 0 ]]; then
        mkdir -p "$dir/merge-tmp"
        TMPDIR=$dir/tmp "$build/tests/fuzz/$t" -merge=1 -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
            "tests/fuzz/corpus/$t" "$dir/corpus" >"$dir/merge.log" 2>&1 ||
            { echo "fuzz.sh: merging $t failed (log $dir/merge.log)" >&2; failed=1; }
    fi
    rm -rf "$dir/tmp"
done

echo
echo "| target | executions | exec/s | cov | ft | corpus (inputs/bytes) | result |"
echo "|---|---:|---:|---:|---:|---:|---|"
printf '%s\n' "${rows[@]}"
if ((failed)); then
    echo "fuzz.sh: a target found a defect; its input and log are under $work (docs/FUZZING.md: make it a regression test)" >&2
    exit 1
fi
((keep)) || rm -rf "$work"
