#!/usr/bin/env bash
# Locate benchmarks side by side with their peers, in one run (docs/BENCHMARKS.md):
#   in process   locate_bench: Snapshot::locate on 1 and N threads
#   PostGIS      the same polygons and points, ST_Contains with a GiST index, prepared statements
#   HTTP         wrk against `wangge serve`: /api/v1/locate and, as the ceiling, /healthz
# plus the time and peak memory of generating each demo district. Prints one table of absolute
# numbers and ratios; raw outputs go to bench/results/<timestamp>/.
#
#   bash bench/run.sh [--sizes 100000,3500000] [--duration 10] [--rounds 3] [--points 100000]
#
# Each timed measurement runs --rounds times, each round next to its peer's (in process beside
# PostGIS, /api/v1/locate beside /healthz), and the best round counts: on a shared machine the
# best round is the least disturbed one.
# Needs root (installs missing Debian packages, runs PostgreSQL as the postgres user). Every
# server listens on 127.0.0.1 only, is started on a free port and stopped by its pid at exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BUILD_DIR=$ROOT/build/bench
PG_BIN=/usr/lib/postgresql/15/bin

SIZES=(100000 3500000)
DURATION=10          # seconds per pgbench / wrk run
ROUNDS=3             # runs of every timed measurement; the best counts
POINTS=100000        # benchmark points per district
VALIDATE_HTTP=50     # points checked over HTTP before timing
VALIDATE_PG=200      # points checked in PostGIS before timing
THREADS=$(nproc)

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

while (($#)); do
    case $1 in
        --sizes) IFS=', ' read -r -a SIZES <<<"$2"; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --points) POINTS=$2; shift 2 ;;
        -h | --help) usage ;;
        *) log "unknown argument: $1"; usage 2 ;;
    esac
done
[[ $EUID -eq 0 ]] || die "run as root: packages may be installed and PostgreSQL runs as the postgres user"

# --- tools -------------------------------------------------------------------------------------

install_missing() {
    local packages=()
    [[ -x $PG_BIN/initdb && -x $PG_BIN/pgbench ]] || packages+=(postgresql)
    [[ -f /usr/share/postgresql/15/extension/postgis.control ]] || packages+=(postgresql-15-postgis-3)
    command -v wrk >/dev/null || packages+=(wrk)
    command -v ogr2ogr >/dev/null || packages+=(gdal-bin)
    [[ -x /usr/bin/time ]] || packages+=(time)
    command -v curl >/dev/null || packages+=(curl)
    command -v jq >/dev/null || packages+=(jq)
    command -v ninja >/dev/null || packages+=(ninja-build)
    ((${#packages[@]})) || return 0
    log "installing ${packages[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
}

build() {
    log "building Release in $BUILD_DIR"
    # Tests are not needed here, and leaving them out keeps the benchmark build independent of them.
    cmake -B "$BUILD_DIR" -S "$ROOT" -DCMAKE_BUILD_TYPE=Release -DWANGGE_BUILD_TESTS=OFF -G Ninja >/dev/null
    cmake --build "$BUILD_DIR" --target wangge locate_bench
    WANGGE=$BUILD_DIR/src/app/wangge
    LOCATE_BENCH=$BUILD_DIR/bench/locate_bench
}

# --- processes and cleanup ---------------------------------------------------------------------

TMP=
PG_PID=
SERVER_PID=

# Waits up to $2 seconds for process $1 to exit.
wait_gone() {
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait_gone "$SERVER_PID" 20 || kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

stop_postgres() {
    [[ -n $PG_PID ]] || return 0
    kill -INT "$PG_PID" 2>/dev/null || true # fast shutdown
    wait_gone "$PG_PID" 30 || kill -QUIT "$PG_PID" 2>/dev/null || true
    wait_gone "$PG_PID" 10 || true
    PG_PID=
}

cleanup() {
    stop_server
    stop_postgres
    [[ -z $TMP ]] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port on 127.0.0.1 where nothing answers (wangge serve picks its own: --port 0).
free_port() {
    local port _
    for _ in {1..100}; do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "no free port found"
}

# --- parsing -----------------------------------------------------------------------------------

# key=value field $3 of the first line of file $1 that starts with $2.
field() {
    awk -v name="$2" -v key="$3" '$1 == name {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) { print kv[2]; exit } }
    }' "$1"
}
# Wall seconds and max RSS (MiB) from /usr/bin/time -v output.
time_wall_s() {
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$1"
}
time_rss_mib() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 > b + 0 ? a : b) }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "" && a + 0 < b + 0 ? a : b) }'; }

declare -A M # M[size,metric] = value

# --- the measurements of one district ----------------------------------------------------------

generate() {
    local size=$1 out=$2 db=$3
    log "[$size] generating the demo district"
    /usr/bin/time -v -o "$out/demo.time" timeout 3600 \
        "$WANGGE" demo "$db" --households "$size" --force >"$out/demo.log" 2>&1 ||
        die "demo generation failed, see $out/demo.log"
    M[$size,demo_s]=$(time_wall_s "$out/demo.time")
    M[$size,demo_rss]=$(time_rss_mib "$out/demo.time")
    M[$size,db_mib]=$(calc "%.0f" "$(stat -c %s "$db") / 1048576")
}

# Validates locate() against brute force, writes the points for the peers and records the
# district's figures. Its timings are not used: the timed rounds run next to PostGIS's.
prepare_points() {
    local size=$1 out=$2 db=$3 points=$4
    log "[$size] in process: locate_bench validates and writes $POINTS points"
    /usr/bin/time -v -o "$out/locate_bench.time" timeout 1200 \
        "$LOCATE_BENCH" "$db" --points "$POINTS" --threads "$THREADS" --min-seconds 0 --points-out "$points" \
        >"$out/locate_bench.r0.txt" 2>&1 || die "locate_bench failed, see $out/locate_bench.r0.txt"
    local f=$out/locate_bench.r0.txt
    grep -E '^(validate|points)' "$f" >&2
    M[$size,load_s]=$(field "$f" snapshot_load seconds)
    M[$size,grids]=$(field "$f" snapshot_load grids)
    M[$size,in_grid_pct]=$(calc "%.1f" "100 * $(field "$f" points grid) / $(field "$f" points n)")
    M[$size,candidates]=$(field "$f" points grid_candidates_per_point)
    local key
    for key in min_lon min_lat max_lon max_lat; do M[$size,$key]=$(field "$f" bbox "$key"); done
}

# Keeps the best of each in-process figure over the rounds.
record_in_process() {
    local size=$1 f=$2
    M[$size,inproc_1t]=$(max "${M[$size,inproc_1t]:-0}" "$(field "$f" locate_inprocess_1t lookups_per_s)")
    M[$size,inproc_mt]=$(max "${M[$size,inproc_mt]:-0}" "$(field "$f" locate_inprocess_mt lookups_per_s)")
    M[$size,inproc_ns]=$(min "${M[$size,inproc_ns]:-}" "$(field "$f" locate_inprocess_1t ns_per_lookup)")
    M[$size,inproc_in_grid_ns]=$(min "${M[$size,inproc_in_grid_ns]:-}" \
        "$(field "$f" locate_inprocess_1t_in_grid ns_per_lookup)")
    M[$size,inproc_not_in_grid_ns]=$(min "${M[$size,inproc_not_in_grid_ns]:-}" \
        "$(field "$f" locate_inprocess_1t_not_in_grid ns_per_lookup)")
}

in_process_round() {
    local size=$1 out=$2 db=$3 r=$4
    local f=$out/locate_bench.r$r.txt
    timeout 1200 "$LOCATE_BENCH" "$db" --points "$POINTS" --threads "$THREADS" --validate 0 >"$f" 2>&1 ||
        die "locate_bench failed, see $f"
    record_in_process "$size" "$f"
}

start_postgres() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    chown postgres: "$dir"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
        --no-sync >"$dir/initdb.log" 2>&1 || die "initdb failed, see $dir/initdb.log"
    # A throwaway cluster: durability settings off (they only slow the load, not the lookups).
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off" start >/dev/null ||
        die "PostgreSQL did not start, see $dir/server.log"
    PG_PID=$(head -n 1 "$dir/data/postmaster.pid")
}

PG_CONN=()
PSQL=()

# Starts a cluster, loads the district's polygons and the points, and checks that PostGIS gives
# Wangge's answers before anything is timed.
postgis_setup() {
    local size=$1 out=$2 db=$3 points=$4
    local port
    port=$(free_port)
    log "[$size] PostGIS: cluster on 127.0.0.1:$port"
    start_postgres "$TMP/pg-$size" "$port"
    PG_CONN=(-h 127.0.0.1 -p "$port" -U postgres)
    PSQL=(psql "${PG_CONN[@]}" -X -q -A -t -v ON_ERROR_STOP=1)
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE bench"
    "${PSQL[@]}" -d bench -c "CREATE EXTENSION postgis"

    log "[$size] PostGIS: loading streets, communities, grids with ogr2ogr"
    local t0=$EPOCHREALTIME
    timeout 1800 ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=$port user=postgres dbname=bench" "$db" \
        streets communities grids -nlt MULTIPOLYGON -lco GEOMETRY_NAME=geom -lco FID=fid \
        -lco SPATIAL_INDEX=NONE >"$out/ogr2ogr.log" 2>&1 || die "ogr2ogr failed, see $out/ogr2ogr.log"
    "${PSQL[@]}" -d bench -v points_csv="$points" -f "$BENCH_DIR/postgis_prepare.sql" >"$out/postgis_prepare.log"
    M[$size,pg_load_s]=$(calc "%.1f" "$EPOCHREALTIME - $t0")

    local pg_grids check mismatches checked in_grid
    pg_grids=$("${PSQL[@]}" -d bench -c "SELECT count(*) FROM grids")
    [[ $pg_grids == "${M[$size,grids]}" ]] || die "PostGIS has $pg_grids grids, Wangge ${M[$size,grids]}"
    check=$("${PSQL[@]}" -d bench -v sample="$VALIDATE_PG" -f "$BENCH_DIR/postgis_validate.sql")
    echo "$check" >"$out/postgis_validate.txt"
    IFS='|' read -r mismatches checked in_grid <<<"$check"
    [[ $mismatches == 0 && $checked == "$VALIDATE_PG" ]] ||
        die "PostGIS and Wangge disagree on $mismatches of $checked points (see $out/postgis_validate.txt)"
    log "[$size] PostGIS agrees with Wangge on $checked points ($in_grid in a grid)"
    "${PSQL[@]}" -d bench -f "$BENCH_DIR/postgis_plans.sql" >"$out/postgis_plans.txt"
}

postgis_round() {
    local size=$1 out=$2 r=$3
    local bbox_vars=(-D min_lon="${M[$size,min_lon]}" -D min_lat="${M[$size,min_lat]}"
        -D max_lon="${M[$size,max_lon]}" -D max_lat="${M[$size,max_lat]}")
    local script vars tps raw
    for script in points makepoint; do
        vars=(-D npoints="$POINTS")
        [[ $script == points ]] || vars=("${bbox_vars[@]}")
        raw=$out/pgbench_$script.r$r.txt
        timeout $((DURATION + 60)) pgbench "${PG_CONN[@]}" -n -M prepared -c 1 -j 1 -T "$DURATION" "${vars[@]}" \
            -f "$BENCH_DIR/pgbench_$script.sql" bench >"$raw" 2>&1 || die "pgbench failed, see $raw"
        tps=$(awk '/^tps = / { printf "%.0f", $3 }' "$raw")
        M[$size,pg_$script]=$(max "${M[$size,pg_$script]:-0}" "$tps")
    done
}

postgis_inserver() {
    local size=$1 out=$2
    log "[$size] PostGIS: every point in one statement (no round trips)"
    "${PSQL[@]}" -d bench -f "$BENCH_DIR/postgis_inserver.sql" -f "$BENCH_DIR/postgis_inserver.sql" \
        >"$out/postgis_inserver.txt"
    local ms
    ms=$(awk '/^Time: / { t = $2 } END { print t }' "$out/postgis_inserver.txt")
    M[$size,pg_inserver]=$(calc "%.0f" "$POINTS / ($ms / 1000)")
}

# Locate in process and in PostGIS, round after round, so that both meet the same load on the
# machine; the best round of each counts.
lookups() {
    local size=$1 out=$2 db=$3 points=$4 r
    postgis_setup "$size" "$out" "$db" "$points"
    log "[$size] $ROUNDS rounds of: locate_bench (1 and $THREADS threads), pgbench -M prepared -c 1 (2 x ${DURATION}s)"
    for ((r = 1; r <= ROUNDS; r++)); do
        in_process_round "$size" "$out" "$db" "$r"
        postgis_round "$size" "$out" "$r"
    done
    postgis_inserver "$size" "$out"
    cp "$TMP/pg-$size/server.log" "$out/postgres.log"
    stop_postgres
}

http() {
    local size=$1 out=$2 db=$3 points=$4
    log "[$size] HTTP: starting wangge serve"
    : >"$out/serve.log" # exists before the server opens it, for the wait below
    "$WANGGE" serve --db "$db" --host 127.0.0.1 --port 0 --threads "$THREADS" >>"$out/serve.log" 2>&1 &
    SERVER_PID=$!
    local port='' i
    for ((i = 0; i < 1200; i++)); do
        port=$(sed -n 's|.*serving .* at http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$out/serve.log")
        [[ -z $port ]] || break
        kill -0 "$SERVER_PID" 2>/dev/null || die "wangge serve exited, see $out/serve.log"
        sleep 0.1
    done
    [[ -n $port ]] || die "wangge serve did not start within 120s, see $out/serve.log"
    local base=http://127.0.0.1:$port
    curl -fsS "$base/healthz" >"$out/healthz.json" || die "no answer from $base/healthz"

    # Over HTTP the answer must be locate()'s too.
    local id lon lat expected got
    while IFS=, read -r id lon lat expected; do
        got=$(curl -fsS "$base/api/v1/locate?lon=$lon&lat=$lat" | jq -r '.grid.code // ""')
        [[ $got == "$expected" ]] || die "HTTP locate of point $id ($lon, $lat) gave '$got', expected '$expected'"
    done < <(sed -n "2,$((VALIDATE_HTTP + 1))p" "$points")
    log "[$size] HTTP agrees with locate_bench on $VALIDATE_HTTP points"

    log "[$size] HTTP: wrk -t2 -c64 -d${DURATION}s on /healthz and /api/v1/locate, $ROUNDS rounds"
    local r target arg raw rps
    for ((r = 1; r <= ROUNDS; r++)); do
        for target in healthz locate; do
            arg=/healthz
            [[ $target == healthz ]] || arg=$points
            raw=$out/wrk_$target.r$r.txt
            timeout $((DURATION + 60)) wrk -t2 -c64 -d"${DURATION}s" --latency -s "$BENCH_DIR/wrk_requests.lua" \
                "$base" -- "$arg" >"$raw" 2>&1 || die "wrk failed, see $raw"
            ! grep -q 'Non-2xx' "$raw" || die "non-2xx answers during wrk, see $raw"
            rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$raw")
            if ((rps > ${M[$size,http_$target]:-0})); then
                M[$size,http_$target]=$rps
                M[$size,http_${target}_p99]=$(awk '$1 == "99%" { print $2 }' "$raw")
            fi
        done
    done
    M[$size,serve_rss]=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status")
    stop_server
}

# --- the table ---------------------------------------------------------------------------------

verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t ? "PASS" : "MISS") }'; }

print_table() {
    local size fmt="%-52s"
    for size in "${SIZES[@]}"; do fmt+=" %16s"; done
    fmt+="\n"
    row() {
        local label=$1 key=$2 cells=() size
        for size in "${SIZES[@]}"; do cells+=("${M[$size,$key]:--}"); done
        # shellcheck disable=SC2059
        printf "$fmt" "$label" "${cells[@]}"
    }
    local header=() rule
    for size in "${SIZES[@]}"; do header+=("$size hh"); done
    # shellcheck disable=SC2059
    printf "$fmt" "measurement" "${header[@]}"
    # shellcheck disable=SC2059
    rule=$(printf "$fmt" "" "${header[@]}" | tr -c '\n' '-')
    echo "$rule"
    row "grids" grids
    row "points in a grid (%)" in_grid_pct
    row "grid bounding boxes holding a point (mean)" candidates
    row "demo generation, wall time (s)" demo_s
    row "demo generation, peak RSS (MiB)" demo_rss
    row "SpatiaLite file (MiB)" db_mib
    row "snapshot load (s)" load_s
    row "wangge serve peak RSS (MiB)" serve_rss
    row "PostGIS load: ogr2ogr + GiST + ANALYZE (s)" pg_load_s
    echo "$rule"
    row "in-process locate, 1 thread (lookups/s)" inproc_1t
    row "in-process locate, $THREADS threads (lookups/s)" inproc_mt
    row "in-process locate, 1 thread (ns/lookup)" inproc_ns
    row "  only the points in a grid (ns/lookup)" inproc_in_grid_ns
    row "  only the points in no grid (ns/lookup)" inproc_not_in_grid_ns
    row "PostGIS prepared, 1 client, same points (/s)" pg_points
    row "PostGIS prepared, 1 client, ST_MakePoint (/s)" pg_makepoint
    row "PostGIS in one statement, no round trip (/s)" pg_inserver
    row "PostGIS prepared, best of the two (ns/lookup)" pg_ns
    row "HTTP /healthz, wrk -t2 -c64 (req/s)" http_healthz
    row "HTTP /api/v1/locate, wrk -t2 -c64 (req/s)" http_locate
    row "HTTP /healthz p99 latency" http_healthz_p99
    row "HTTP /api/v1/locate p99 latency" http_locate_p99
    echo "$rule"
    row "in-process 1t / PostGIS prepared (target >= 50x)" ratio_pg
    row "  verdict" verdict_pg
    row "in-process 1t / PostGIS in one statement" ratio_pg_inserver
    row "HTTP locate / healthz (target >= 60%)" ratio_http
    row "  verdict" verdict_http
}

compute_ratios() {
    local size best
    for size in "${SIZES[@]}"; do
        # Against the better of the two prepared-statement figures, so PostGIS gets its best case.
        best=$(max "${M[$size,pg_points]}" "${M[$size,pg_makepoint]}")
        M[$size,pg_ns]=$(calc "%.0f" "1e9 / $best")
        M[$size,ratio_pg]=$(calc "%.1fx" "${M[$size,inproc_1t]} / $best")
        M[$size,verdict_pg]=$(verdict "${M[$size,ratio_pg]%x}" 50)
        M[$size,ratio_pg_inserver]=$(calc "%.1fx" "${M[$size,inproc_1t]} / ${M[$size,pg_inserver]}")
        M[$size,ratio_http]=$(calc "%.0f%%" "100 * ${M[$size,http_locate]} / ${M[$size,http_healthz]}")
        M[$size,verdict_http]=$(verdict "${M[$size,ratio_http]%\%}" 60)
    done
}

# --- main --------------------------------------------------------------------------------------

main() {
    install_missing
    build
    local results
    results=$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)
    mkdir -p "$results"
    TMP=$(mktemp -d /tmp/wangge-bench.XXXXXX)
    chmod 755 "$TMP" # PostgreSQL (user postgres) reads the points file from here
    {
        echo "date: $(date -Iseconds)"
        echo "host: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
        echo "cpu: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
        echo "commit: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
        echo "sizes: ${SIZES[*]}; points: $POINTS; duration: ${DURATION}s; rounds: $ROUNDS (best counts); threads: $THREADS"
        echo "postgres: $("$PG_BIN/postgres" --version); wrk: $(wrk -v 2>&1 | head -n 1)"
    } >"$results/environment.txt"

    local size
    for size in "${SIZES[@]}"; do
        local out=$results/$size db=$TMP/demo-$size.sqlite points=$TMP/points-$size.csv
        mkdir -p "$out"
        generate "$size" "$out" "$db"
        prepare_points "$size" "$out" "$db" "$points"
        lookups "$size" "$out" "$db" "$points"
        http "$size" "$out" "$db" "$points"
        rm -f "$db" "$db"-wal "$db"-shm
    done

    compute_ratios
    {
        cat "$results/environment.txt"
        echo
        print_table
    } | tee "$results/table.txt"
    log "raw outputs in $results"
}

main
