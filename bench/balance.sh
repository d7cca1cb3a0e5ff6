#!/usr/bin/env bash
# Grid division side by side in one run (docs/BENCHMARKS.md, "Grid division"), the tables:
#   partition  Wangge's partitioner against METIS k-way with contiguous parts on the same graphs
#              and households (Walnut Hills census blocks, seeded lattices and building cells):
#              zones in band, compactness, boundary, time; households moved after a 10% change
#   mip        Wangge and METIS against the exact optimum (cbc) on small instances of 30-40 atoms
#   quality    (only with --only quality) the Walnut Hills blocks as a user runs them: each census
#              tract a community, the blocks buildings, `wangge rebalance --from-scratch` per
#              community, validated; per tract Wangge's grids beside METIS and the MIP
# The tables have absolute numbers, ratios and the targets; raw output goes to
# bench/results/<timestamp>-balance/.
#
#   bash bench/balance.sh [--only partition|mip|bootstrap|quality] [--runs 5] [--seeds 20]
#                         [--mip-seconds 120] [--mip-atoms 40] [--build-dir DIR]
#   bash bench/balance.sh --from bench/results/<run>/balance_bench.txt [--only ...]
#
# --runs: timed runs of each partition (the median counts); --seeds: instances of each synthetic
# family, and partition seeds of each; --mip-seconds: cbc's limit per instance (CPU seconds);
# --mip-atoms: the largest tract (blocks) the quality table solves exactly; --build-dir: build in
# an already configured build directory (e.g. build/ci) instead of configuring build/bench
# (Release); --from: prints the tables of an earlier run's raw output, builds and runs nothing.
# Installs libmetis-dev and coinor-cbc (for quality also gdal-bin and sqlite3) when missing (needs
# root then); nothing else runs as root.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BUILD_DIR=$ROOT/build/bench
WALNUT_HILLS=$ROOT/../shared/data/cincinnati-walnut-hills/blocks_households.geojson

ONLY=
RUNS=5
SEEDS=20
MIP_SECONDS=120
MIP_ATOMS=40
FROM=
CONFIGURED_BUILD=

usage() { sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
log() { printf '[balance %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

while (($#)); do
    case $1 in
        --only) ONLY=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --seeds) SEEDS=$2; shift 2 ;;
        --mip-seconds) MIP_SECONDS=$2; shift 2 ;;
        --mip-atoms) MIP_ATOMS=$2; shift 2 ;;
        --build-dir) CONFIGURED_BUILD=$(cd "$2" && pwd); shift 2 ;;
        --from) FROM=$2; shift 2 ;;
        -h | --help) usage ;;
        *) log "unknown argument: $1"; usage 2 ;;
    esac
done
[[ -z $ONLY || $ONLY == partition || $ONLY == mip || $ONLY == bootstrap || $ONLY == quality ]] ||
    die "--only takes partition, mip, bootstrap or quality, not '$ONLY'"
want() { [[ -z $ONLY || $ONLY == "$1" ]]; }

# shellcheck source=bench/balance_quality.sh
source "$BENCH_DIR/balance_quality.sh"

install_missing() {
    local packages=()
    [[ -f /usr/include/metis.h ]] || packages+=(libmetis-dev)
    command -v gpmetis >/dev/null || packages+=(metis) # the command-line tools, for looking into a graph by hand
    command -v cbc >/dev/null || packages+=(coinor-cbc)
    command -v ninja >/dev/null || packages+=(ninja-build)
    if [[ $ONLY == quality ]]; then
        command -v ogr2ogr >/dev/null || packages+=(gdal-bin)
        command -v sqlite3 >/dev/null || packages+=(sqlite3)
    fi
    ((${#packages[@]})) || return 0
    [[ $EUID -eq 0 ]] || die "missing ${packages[*]}: run as root to install them"
    log "installing ${packages[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
}

# Builds balance_bench, and the wangge command only when the bootstrap or the quality table is
# measured; two jobs at most (the machine is shared).
build() {
    local targets=(balance_bench)
    if want bootstrap || [[ $ONLY == quality ]]; then targets+=(wangge); fi
    if [[ -n $CONFIGURED_BUILD ]]; then
        BUILD_DIR=$CONFIGURED_BUILD
        log "building ${targets[*]} in $BUILD_DIR (as configured there)"
    else
        log "building ${targets[*]} (Release) in $BUILD_DIR"
        cmake -B "$BUILD_DIR" -S "$ROOT" -DCMAKE_BUILD_TYPE=Release -DWANGGE_BUILD_TESTS=OFF -G Ninja >/dev/null
    fi
    cmake --build "$BUILD_DIR" -j2 --target "${targets[@]}"
    BALANCE_BENCH=$BUILD_DIR/bench/balance_bench
    WANGGE=$BUILD_DIR/src/app/wangge
}

# --- parsing -----------------------------------------------------------------------------------

declare -A M # M[instance,what,key] = value
INSTANCES=()
MIPS=()

# Reads balance_bench's `name key=value ...` lines.
parse() {
    local name rest word inst method
    while read -r name rest; do
        case $name in instance | partition | time | stability | failures | mip) ;; *) continue ;; esac
        declare -A kv=()
        for word in $rest; do kv[${word%%=*}]=${word#*=}; done
        inst=${kv[instance]}
        case $name in
            instance) INSTANCES+=("$inst"); method=instance ;;
            partition) method=${kv[method]} ;;
            time) method=${kv[method]}_time ;;
            stability) method=stability ;;
            failures) method=failures ;;
            mip) MIPS+=("$inst"); method=mip ;;
        esac
        for word in "${!kv[@]}"; do M[$inst,$method,$word]=${kv[$word]}; done
        unset kv
    done <"$1"
}

get() { echo "${M[$1,$2,$3]:--}"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# --- the partition table -----------------------------------------------------------------------

FMT=
RULE=
row() {
    local label=$1 inst cells=()
    shift
    for inst in "${INSTANCES[@]}"; do cells+=("$("$@" "$inst")"); done
    # shellcheck disable=SC2059
    printf "$FMT" "$label" "${cells[@]}"
}

# Cell functions: each takes the instance and prints one cell.
c_size() { echo "$(get "$1" instance atoms) / $(get "$1" instance households)"; }
c_zones() { get "$1" wangge zones; }
c_in_band() { echo "$(get "$1" "$2" in_band_pct)% / $(get "$1" "$2" feasible_in_band_pct)%"; }
c_in_band_w() { c_in_band "$1" wangge; }
c_in_band_mb() { c_in_band "$1" metis_band; }
c_in_band_md() { c_in_band "$1" metis_default; }
c_empty() { echo "$(get "$1" metis_band empty) / $(get "$1" metis_default empty)"; }
c_contig() { echo "$(get "$1" wangge contiguous) / $(get "$1" metis_band contiguous)"; }
c_pp_w() { get "$1" wangge mean_pp; }
c_pp_mb() { get "$1" metis_band mean_pp; }
c_pp_md() { get "$1" metis_default mean_pp; }
c_cut() { echo "$(get "$1" wangge cut_m) / $(get "$1" metis_band cut_m)"; }
c_road() { echo "$(get "$1" wangge road_pct) / $(get "$1" metis_band road_pct)"; }
c_time() { echo "$(get "$1" wangge_time median_ms) / $(get "$1" metis_band_time median_ms)"; }
c_time_max() { get "$1" wangge_time max_ms; }
c_failures() { echo "$(get "$1" failures wangge) / $(get "$1" failures wangge_repair) / $(get "$1" failures wangge_after)"; }
c_changed() { echo "$(get "$1" stability changed) ($(get "$1" stability changed_pct)%)"; }
c_stability_seeds() { get "$1" stability seeds; }
c_moved_repair() { get "$1" stability repair_moved; }
c_moved_scratch() { get "$1" stability scratch_moved; }
c_moved_metis() { get "$1" stability metis_moved; }
c_zones_after() { echo "$(get "$1" wangge_repair zones) / $(get "$1" wangge_after zones)"; }
c_repair_band() { c_in_band "$1" wangge_repair; }
c_repair_time() { get "$1" wangge_repair_time median_ms; }

verdict() { awk -v ok="$1" 'BEGIN { print (ok ? "PASS" : "MISS") }'; }
c_v_band() { verdict "$(awk -v v="$(get "$1" wangge feasible_in_band_pct)" 'BEGIN { print (v >= 100) }')"; }
metis_best_pp() { awk -v a="$(get "$1" metis_band mean_pp)" -v b="$(get "$1" metis_default mean_pp)" 'BEGIN { print (a > b ? a : b) }'; }
c_pp_ratio() { calc "%.3f" "$(get "$1" wangge mean_pp) / $(metis_best_pp "$1")"; }
c_v_pp() { verdict "$(awk -v r="$(c_pp_ratio "$1")" 'BEGIN { print (r >= 1) }')"; }
c_repair_ratio() { echo "$(get "$1" stability repair_ratio) / $(get "$1" stability worst_repair_ratio)"; }
c_v_repair() { verdict "$(awk -v r="$(get "$1" stability repair_ratio)" 'BEGIN { print (r <= 1 / 3) }')"; }
c_v_repair_worst() { verdict "$(awk -v r="$(get "$1" stability worst_repair_ratio)" 'BEGIN { print (r <= 1 / 3) }')"; }
# Only the communities of about 2,500 households have a time target.
c_v_time() {
    [[ $1 == *_2500 ]] || { echo "-"; return; }
    verdict "$(awk -v t="$(get "$1" wangge_time max_ms)" 'BEGIN { print (t < 500) }')"
}

print_partition_table() {
    local inst header=()
    FMT="%-58s"
    for inst in "${INSTANCES[@]}"; do
        FMT+=" %17s"
        header+=("$inst")
    done
    FMT+="\n"
    # shellcheck disable=SC2059
    printf "$FMT" "grid division, $SEEDS seeds pooled" "${header[@]}"
    # shellcheck disable=SC2059
    RULE=$(printf "$FMT" "" "${header[@]}" | tr -c '\n' '-')
    echo "$RULE"
    row "atoms / households (first seed)" c_size
    row "zones, all seeds (Wangge's count, given to METIS)" c_zones
    row "zones in band %, all / where feasible: Wangge" c_in_band_w
    row "  METIS, tolerance up to band max" c_in_band_mb
    row "  METIS, default tolerance (3%)" c_in_band_md
    row "  METIS empty parts: band / default tolerance" c_empty
    row "contiguous zones: Wangge / METIS (band)" c_contig
    row "mean Polsby-Popper: Wangge" c_pp_w
    row "  METIS, tolerance up to band max" c_pp_mb
    row "  METIS, default tolerance (3%)" c_pp_md
    row "boundary between zones (m): Wangge / METIS" c_cut
    row "  of it on roads (%): Wangge / METIS" c_road
    row "time, median ms: Wangge / METIS" c_time
    row "  Wangge, slowest seed (ms)" c_time_max
    row "Wangge runs that threw: first / repair / from scratch after" c_failures
    echo "$RULE"
    row "seeds in the figures after the change (none threw)" c_stability_seeds
    row "after a change: households changed (% of all)" c_changed
    row "households moved: Wangge repair" c_moved_repair
    row "  Wangge from scratch" c_moved_scratch
    row "  METIS from scratch (against METIS's own)" c_moved_metis
    row "zones: Wangge repair / from scratch" c_zones_after
    row "zones in band % after repair, all / where feasible" c_repair_band
    row "repair time, median ms" c_repair_time
    echo "$RULE"
    row "all zones in band where feasible (target 100%)" c_v_band
    row "mean PP Wangge / best METIS (target >= 1)" c_pp_ratio
    row "  verdict" c_v_pp
    row "moved repair / scratch, pooled / worst seed (<= 0.333)" c_repair_ratio
    row "  verdict, pooled" c_v_repair
    row "  verdict, every seed" c_v_repair_worst
    row "2,500-household community in < 0.5 s (slowest seed)" c_v_time
    echo "${BOOTSTRAP_LINE:-bootstrap of the 3.5M-household demo city (target < 10 min): not measured in this run}"
}

# --- the MIP table -----------------------------------------------------------------------------

print_mip_table() {
    local fmt="%-20s %5s %5s %5s %10s %8s %8s %8s %7s %8s %7s %17s %6s\n" inst
    # shellcheck disable=SC2059
    printf "$fmt" "exact MIP (cbc)" atoms hh zones status "best" "bound" "Wangge" "gap" "METIS" "gap" "PP best/W/METIS" "cbc s"
    # shellcheck disable=SC2059
    printf "$fmt" "" "" "" "" "" "" "" "" "" "" "" "" "" | tr -c '\n' '-'
    for inst in "${MIPS[@]}"; do
        local wangge_gap metis_gap
        wangge_gap="$(get "$inst" mip wangge_gap_pct)%"
        metis_gap="$(get "$inst" mip metis_gap_pct)%"
        # A partition counts only when every zone is in band and contiguous (Wangge's always are
        # contiguous).
        [[ $(get "$inst" mip wangge_in_band) == "$(get "$inst" mip zones)" ]] || wangge_gap="invalid"
        if [[ $(get "$inst" mip metis_in_band) != "$(get "$inst" mip zones)" ||
            $(get "$inst" mip metis_contiguous) != "$(get "$inst" mip zones)" ]]; then
            metis_gap="invalid"
        fi
        # shellcheck disable=SC2059
        printf "$fmt" "$inst" "$(get "$inst" mip atoms)" "$(get "$inst" mip households)" "$(get "$inst" mip zones)" \
            "$(get "$inst" mip status)" "$(get "$inst" mip mip_cut_m)" "$(get "$inst" mip mip_bound_m)" \
            "$(get "$inst" mip wangge_cut_m)" "$wangge_gap" "$(get "$inst" mip metis_cut_m)" \
            "$metis_gap" "$(get "$inst" mip mip_mean_pp)/$(get "$inst" mip wangge_mean_pp)/$(get "$inst" mip metis_mean_pp)" \
            "$(get "$inst" mip seconds)"
    done
    echo "boundary between zones in metres; gap = Wangge's (METIS's) boundary over the best the MIP found;"
    echo "best = bound: proven optimal; otherwise the optimum lies between bound and best"
}

# --- main --------------------------------------------------------------------------------------

main() {
    install_missing
    build
    local results
    results=$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)-balance
    mkdir -p "$results"
    {
        echo "date: $(date -Iseconds)"
        echo "host: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
        echo "cpu: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); load: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "commit: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
        echo "metis: $(dpkg-query -W -f='${Version}' libmetis-dev 2>/dev/null || echo unknown);" \
            "cbc: $(dpkg-query -W -f='${Version}' coinor-cbc 2>/dev/null || echo unknown)"
        echo "runs: $RUNS (median); seeds: $SEEDS; cbc limit: ${MIP_SECONDS} s CPU per instance; band: 250-500"
        echo "build: $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt") in $BUILD_DIR"
    } >"$results/environment.txt"
    [[ -f $WALNUT_HILLS ]] || log "no $WALNUT_HILLS: Walnut Hills is left out"

    if want bootstrap; then measure_bootstrap "$results"; fi
    [[ $ONLY == bootstrap ]] && { echo "$BOOTSTRAP_LINE" | tee "$results/table.txt"; return; }
    if [[ $ONLY == quality ]]; then
        measure_quality "$results"
        {
            cat "$results/environment.txt"
            echo
            print_quality_table "$results/balance_bench.txt"
        } | tee "$results/table.txt"
        log "raw output in $results"
        return
    fi
    log "running balance_bench ${ONLY:+(only $ONLY)}; cbc files in $results/mip"
    "$BALANCE_BENCH" --walnut-hills "$WALNUT_HILLS" --runs "$RUNS" --seeds "$SEEDS" ${ONLY:+--only "$ONLY"} \
        --mip-dir "$results/mip" --mip-seconds "$MIP_SECONDS" >"$results/balance_bench.txt" 2>&1 ||
        die "balance_bench failed, see $results/balance_bench.txt"
    parse "$results/balance_bench.txt"
    {
        cat "$results/environment.txt"
        print_tables
    } | tee "$results/table.txt"
    log "raw output in $results"
}

# Bootstrap of the demo city: `wangge demo --households 3500000`, then every street divided anew
# from its buildings (`wangge bootstrap --all-streets --replace`), timed, and validated.
measure_bootstrap() {
    local results=$1 db=$1/bootstrap.sqlite
    log "bootstrap: generating the 3.5M-household demo city"
    "$WANGGE" demo "$db" --households 3500000 --force >"$results/bootstrap.txt" 2>&1
    log "bootstrap: dividing every street anew"
    local t0 t1
    t0=$(date +%s.%N)
    "$WANGGE" bootstrap --db "$db" --all-streets --replace >>"$results/bootstrap.txt" 2>&1 || die "bootstrap failed, see $results/bootstrap.txt"
    t1=$(date +%s.%N)
    "$WANGGE" validate --db "$db" >>"$results/bootstrap.txt" 2>&1 && local valid=valid || local valid=INVALID
    local seconds verdict
    seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')
    verdict=$([[ $valid == valid && $seconds -lt 600 ]] && echo PASS || echo MISS)
    BOOTSTRAP_LINE="bootstrap of the 3.5M-household demo city (target < 10 min): ${seconds} s, ${valid} - $verdict"
    echo "$BOOTSTRAP_LINE" >>"$results/bootstrap.txt"
    rm -f "$db" "$db-wal" "$db-shm"
}

print_tables() {
    if want partition; then
        echo
        print_partition_table
    fi
    if want mip; then
        echo
        print_mip_table
    fi
}

if [[ -n $FROM && $ONLY == quality ]]; then
    print_quality_table "$FROM"
elif [[ -n $FROM ]]; then
    parse "$FROM"
    [[ -f $(dirname "$FROM")/bootstrap.txt ]] && BOOTSTRAP_LINE=$(tail -1 "$(dirname "$FROM")/bootstrap.txt")
    SEEDS=$(awk '$1 == "stability" { for (i = 2; i <= NF; i++) if ($i ~ /^seeds=/) { sub("seeds=", "", $i); print $i; exit } }' "$FROM")
    print_tables
else
    main
fi
