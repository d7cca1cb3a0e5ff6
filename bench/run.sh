#!/usr/bin/env bash
# Wangge's benchmarks side by side with their peers, in one run (docs/BENCHMARKS.md), two tables:
#   locate  in process (locate_bench) against PostGIS (ST_Contains, GiST, prepared statements);
#           HTTP /api/v1/locate against /healthz (wrk); demo generation time and memory
#   tiles   vector tiles in process (tiles_bench) against PostGIS ST_AsMVT on the same tiles;
#           cold PNG rendering at z14-16; cached tiles over HTTP against nginx serving the same
#           bytes as static files (wrk)
#   intake  sustained reports (POST /api/v1/incidents, each located, dispatched and committed
#           with synchronous=FULL before its 201) against PostgreSQL + PostGIS doing the same per
#           report (one statement: point-in-polygon and insert, committed with fsync=on and
#           synchronous_commit=on) at each of --clients; wrk and pgbench. Only with --only intake.
# Each table has absolute numbers, ratios and the targets; raw outputs go to bench/results/<timestamp>/.
#
#   bash bench/run.sh [--only locate|tiles|balance|intake] [--sizes 100000,3500000] [--duration 10]
#                     [--rounds 3] [--points 100000] [--per-zoom 40] [--no-tiles-http] [--clients 1,8,32,128]
#                     [--wangge PATH]
#
# --wangge (with --only intake) runs a wangge binary already built (e.g. build/ci/src/app/wangge)
# instead of building Release first; environment.txt names it.
# --no-tiles-http leaves out the cached tiles over HTTP (wangge serve and nginx): the tiles table
# then has generation and rendering only, and no HTTP rows.
# Each timed measurement runs --rounds times, each round next to its peer's, and the best round
# counts: on a shared machine the best round is the least disturbed one.
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
PER_ZOOM=40          # benchmark tiles per zoom, z12..z16
TILE_SECONDS=3       # least time of one in-process or in-server tile measurement (whole passes)
ONLY=                # locate, tiles, balance, or empty for all three
TILES_HTTP=1         # 0: no cached tiles over HTTP (--no-tiles-http)
VALIDATE_HTTP=50     # points checked over HTTP before timing
VALIDATE_PG=200      # points checked in PostGIS before timing
THREADS=$(nproc)
WANGGE=              # --wangge: a binary to run instead of building one
CLIENTS=(1 8 32 128) # concurrent clients of the intake part (wrk connections, pgbench clients)
INTAKE_POINTS=50000  # points the reports are made at, uniform over the grids' extent
INTAKE_TARGET=2000   # reports/s

usage() { sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

while (($#)); do
    case $1 in
        --sizes) IFS=', ' read -r -a SIZES <<<"$2"; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --points) POINTS=$2; shift 2 ;;
        --per-zoom) PER_ZOOM=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --no-tiles-http) TILES_HTTP=0; shift ;;
        --clients) IFS=', ' read -r -a CLIENTS <<<"$2"; shift 2 ;;
        --wangge) WANGGE=$(realpath "$2"); shift 2 ;;
        -h | --help) usage ;;
        *) log "unknown argument: $1"; usage 2 ;;
    esac
done
[[ -z $ONLY || $ONLY == locate || $ONLY == tiles || $ONLY == balance || $ONLY == intake ]] ||
    die "--only takes locate, tiles, balance or intake, not '$ONLY'"
# Grid division against METIS and an exact MIP has a script of its own (docs/BENCHMARKS.md).
if [[ $ONLY == balance ]]; then exec bash "$BENCH_DIR/balance.sh"; fi
# The intake part writes and fsyncs for minutes: it runs only when asked for.
want() { [[ (-z $ONLY && $1 != intake) || $ONLY == "$1" ]]; }
[[ -z $WANGGE || ($ONLY == intake && -x $WANGGE) ]] || die "--wangge takes an executable, with --only intake"
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
    command -v sqlite3 >/dev/null || packages+=(sqlite3)
    # Debian's nginx; policy-rc.d or the lack of an init system keeps its service from starting,
    # and run.sh starts its own instance on 127.0.0.1 only.
    ! want tiles || command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || packages+=(nginx)
    ((${#packages[@]})) || return 0
    log "installing ${packages[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
}

build() {
    if [[ -n $WANGGE ]]; then
        log "using $WANGGE (not built here)"
        return
    fi
    log "building Release in $BUILD_DIR"
    # Tests are not needed here, and leaving them out keeps the benchmark build independent of them.
    cmake -B "$BUILD_DIR" -S "$ROOT" -DCMAKE_BUILD_TYPE=Release -DWANGGE_BUILD_TESTS=OFF -G Ninja >/dev/null
    local targets=(wangge)
    ! want locate || targets+=(locate_bench)
    ! want tiles || targets+=(tiles_bench)
    cmake --build "$BUILD_DIR" --target "${targets[@]}"
    WANGGE=$BUILD_DIR/src/app/wangge
    LOCATE_BENCH=$BUILD_DIR/bench/locate_bench
    TILES_BENCH=$BUILD_DIR/bench/tiles_bench
}

# --- processes and cleanup ---------------------------------------------------------------------

TMP=
PG_PID=
SERVER_PID=
NGINX_PID=

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

stop_nginx() {
    [[ -n $NGINX_PID ]] || return 0
    kill -TERM "$NGINX_PID" 2>/dev/null || true # fast shutdown
    wait_gone "$NGINX_PID" 20 || kill -KILL "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=
}

cleanup() {
    stop_server
    stop_nginx
    stop_postgres
    [[ -z $TMP ]] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port, wait_gone (wangge serve picks its own port: --port 0).
source "$ROOT/scripts/lib.sh"

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
# CPU time (user + system, clock ticks) the processes given have used so far.
cpu_ticks() {
    local pid t=0
    for pid in "$@"; do [[ -r /proc/$pid/stat ]] && t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done
    echo "$t"
}
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
    local dir=$1 port=$2 durable=${3:-}
    mkdir -p "$dir"
    chown postgres: "$dir"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
        --no-sync >"$dir/initdb.log" 2>&1 || die "initdb failed, see $dir/initdb.log"
    # A throwaway cluster: durability settings off (they only slow the load, not the lookups),
    # except for the intake part ($3 = durable), whose commits must reach the disk.
    local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [[ -z $durable ]] || durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
    local c most=0
    for c in "${CLIENTS[@]}"; do ((c <= most)) || most=$c; done
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' $durability \
            -c max_connections=$((most + 20))" start >/dev/null ||
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

# Starts `wangge serve` on a free port of 127.0.0.1 and sets BASE to its URL.
BASE=
start_wangge() {
    local size=$1 out=$2 db=$3 serve_log=${4:-$2/serve.log}
    log "[$size] HTTP: starting wangge serve"
    : >"$serve_log" # exists before the server opens it, for the wait below
    "$WANGGE" serve --db "$db" --host 127.0.0.1 --port 0 --threads "$THREADS" --styles "$ROOT/styles" \
        >>"$serve_log" 2>&1 &
    SERVER_PID=$!
    local port='' i
    for ((i = 0; i < 1200; i++)); do
        port=$(sed -n 's|.*serving .* at http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$serve_log")
        [[ -z $port ]] || break
        kill -0 "$SERVER_PID" 2>/dev/null || die "wangge serve exited, see $serve_log"
        sleep 0.1
    done
    [[ -n $port ]] || die "wangge serve did not start within 120s, see $serve_log"
    BASE=http://127.0.0.1:$port
    curl -fsS "$BASE/healthz" >"$out/healthz.json" || die "no answer from $BASE/healthz"
}

http() {
    local size=$1 out=$2 db=$3 points=$4
    start_wangge "$size" "$out" "$db"
    local base=$BASE

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

# --- sustained intake of one district ----------------------------------------------------------

# The points reports are made at (uniform over the grids' extent, a fixed seed), the category
# codes of the catalogue `serve` loads (taken in turn by both sides), a user who may report and
# their token, and a copy of the district that every Wangge round starts from.
INTAKE_TOKEN=
INTAKE_CATEGORIES=
intake_prepare() {
    local size=$1 out=$2 db=$3 points=$4 base=$5
    # Wangge's side of "durable": every connection that writes runs at synchronous=FULL in WAL mode.
    grep -q 'PRAGMA synchronous=FULL' "$ROOT/src/store/database.cpp" ||
        die "src/store/database.cpp no longer sets synchronous=FULL: the intake benchmark would not be durable"
    local extent
    extent=$(sqlite3 -csv "$db" ".load mod_spatialite" \
        "SELECT MbrMinX(e), MbrMinY(e), MbrMaxX(e), MbrMaxY(e) FROM (SELECT Extent(geom) AS e FROM grids)")
    local min_lon min_lat max_lon max_lat
    IFS=, read -r min_lon min_lat max_lon max_lat <<<"$extent"
    awk -v n="$INTAKE_POINTS" -v x0="$min_lon" -v y0="$min_lat" -v x1="$max_lon" -v y1="$max_lat" 'BEGIN {
        srand(20261205)
        for (i = 0; i < n; i++) printf "%.6f,%.6f\n", x0 + rand() * (x1 - x0), y0 + rand() * (y1 - y0)
    }' >"$points"
    INTAKE_CATEGORIES=$(jq -r '[.classes[].subclasses[].code] | join(",")' "$ROOT/data/categories.json")
    "$WANGGE" user add bench-intake --role admin --no-password --db "$db" >"$out/intake_user.log" 2>&1 ||
        die "wangge user add failed, see $out/intake_user.log"
    INTAKE_TOKEN=$("$WANGGE" token create --user bench-intake --db "$db" 2>>"$out/intake_user.log" | head -n 1)
    [[ $INTAKE_TOKEN == wgt_* ]] || die "wangge token create gave no token, see $out/intake_user.log"
    sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
    cp "$db" "$base"
    log "[$size] intake: $INTAKE_POINTS points in $extent, $(tr ',' '\n' <<<"$INTAKE_CATEGORIES" | wc -l) categories in turn"
}

# A cluster with fsync=on and synchronous_commit=on, the grids and the table of cases.
intake_postgis_setup() {
    local size=$1 out=$2 db=$3 points=$4
    local port
    port=$(free_port)
    log "[$size] PostGIS (intake): durable cluster on 127.0.0.1:$port"
    start_postgres "$TMP/pg-intake-$size" "$port" durable
    PG_CONN=(-h 127.0.0.1 -p "$port" -U postgres)
    PSQL=(psql "${PG_CONN[@]}" -X -q -A -t -v ON_ERROR_STOP=1)
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE bench"
    "${PSQL[@]}" -d bench -c "CREATE EXTENSION postgis"
    timeout 1800 ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=$port user=postgres dbname=bench" "$db" \
        grids -nlt MULTIPOLYGON -lco GEOMETRY_NAME=geom -lco FID=fid -lco SPATIAL_INDEX=NONE \
        >"$out/ogr2ogr_intake.log" 2>&1 || die "ogr2ogr failed, see $out/ogr2ogr_intake.log"
    "${PSQL[@]}" -d bench -v points_csv="$points" -v categories="$INTAKE_CATEGORIES" \
        -f "$BENCH_DIR/intake_prepare.sql" >"$out/intake_prepare.log" 2>&1 ||
        die "intake_prepare.sql failed, see $out/intake_prepare.log"
    local settings
    settings=$("${PSQL[@]}" -d bench -F ' ' -c "SELECT current_setting('fsync'), current_setting('synchronous_commit'),
        current_setting('full_page_writes'), current_setting('wal_sync_method')")
    echo "$settings" >"$out/intake_pg_settings.txt"
    [[ $settings == "on on on "* ]] || die "PostgreSQL is not durable for the intake part: $settings"
    M[$size,i_pg_sync]="fsync, $(cut -d' ' -f4 <<<"$settings")"
}

# p50 and p99 (ms) of the per-transaction latencies (µs, third field) in pgbench's -l logs.
pgbench_percentiles() {
    cat "$@" | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- -"; exit }
        i50 = int(NR * 0.50); if (i50 < 1) i50 = 1; i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
        printf "%.2fms %.2fms\n", v[i50] / 1000, v[i99] / 1000 }'
}

# One Wangge round at $4 clients: a fresh copy of the district, wangge serve, wrk for DURATION,
# SIGTERM; then the reports stored are counted against the 201s and the server's audit log.
intake_wangge_round() {
    local size=$1 out=$2 base=$3 c=$4 r=$5 points=$6
    local db=$TMP/intake-run-$size.sqlite run=c$c-r$r
    rm -f "$db" "$db"-wal "$db"-shm
    cp "$base" "$db"
    local serve_log=$out/intake_serve.c$c.r$r.log raw=$out/wrk_intake.c$c.r$r.txt
    start_wangge "$size" "$out" "$db" "$serve_log"
    local threads=$((c < THREADS ? c : THREADS))
    timeout $((DURATION + 60)) wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency \
        -s "$BENCH_DIR/intake_reports.lua" "$BASE" -- "$points" "$INTAKE_TOKEN" "$run" "$INTAKE_CATEGORIES" \
        >"$raw" 2>&1 || die "wrk failed, see $raw"
    stop_server # SIGTERM: what was accepted is committed and answered first
    local created other stored answered transactions located
    created=$(field "$raw" intake_answers created)
    other=$(field "$raw" intake_answers other)
    [[ $other == 0 ]] || die "$other answers other than 201 at $c clients, see $raw"
    stored=$(sqlite3 "$db" "SELECT count(*) FROM incidents")
    located=$(sqlite3 "$db" "SELECT count(*) FROM incidents WHERE grid_code != ''")
    answered=$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE action = 'incident.report' AND status = 201")
    # wrk stops reading when its time is up: the reports then in flight (at most one per
    # connection) are committed and answered, but not counted by wrk.
    ((stored == answered)) || die "$stored reports stored, $answered answered 201 in the audit log ($run)"
    ((stored >= created && stored - created <= c)) ||
        die "$stored reports stored, $created answered 201 to wrk at $c clients ($run): lost or extra reports"
    local jobs
    jobs=$(sed -n 's/.*group commit: \([0-9]*\) .* in \([0-9]*\) transactions.*/\1/p' "$serve_log")
    transactions=$(sed -n 's/.*group commit: \([0-9]*\) .* in \([0-9]*\) transactions.*/\2/p' "$serve_log")
    [[ -n $transactions ]] || die "no group commit line in $serve_log"
    local rps
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$raw")
    log "[$size] intake c=$c round $r: Wangge $rps reports/s, $created answered 201, $stored stored ($located in a grid), $transactions transactions"
    if ((rps > ${M[$size,i_w_c$c]:-0})); then
        M[$size,i_w_c$c]=$rps
        M[$size,i_w_lat_c$c]="$(awk '$1 == "50%" { a = $2 } $1 == "99%" { b = $2 } END { print a " / " b }' "$raw")"
        M[$size,i_w_batch_c$c]="$(calc "%.1f" "$jobs / $transactions") ($transactions)"
        M[$size,i_w_check_c$c]="$created / $stored"
        M[$size,i_w_grid_c$c]=$(calc "%.1f" "100 * $located / $stored")
    fi
    rm -f "$db" "$db"-wal "$db"-shm
}

# One PostGIS round at $4 clients: pgbench for DURATION, then the rows stored against the
# transactions pgbench counted.
intake_postgis_round() {
    local size=$1 out=$2 c=$3 r=$4
    local raw=$out/pgbench_intake.c$c.r$r.txt logs=$TMP/pglog-$size-c$c-r$r
    "${PSQL[@]}" -d bench -c "TRUNCATE cases" -c "CHECKPOINT"
    local threads=$((c < THREADS ? c : THREADS))
    mkdir -p "$logs"
    chown postgres: "$logs"
    timeout $((DURATION + 60)) pgbench "${PG_CONN[@]}" -n -M prepared -c "$c" -j "$threads" -T "$DURATION" \
        -D npoints="$INTAKE_POINTS" -l --log-prefix="$logs/tx" -f "$BENCH_DIR/intake_pgbench.sql" bench \
        >"$raw" 2>&1 || die "pgbench failed, see $raw"
    local processed stored located tps
    processed=$(awk -F': ' '/number of transactions actually processed/ { split($2, a, "/"); print a[1] + 0 }' "$raw")
    stored=$("${PSQL[@]}" -d bench -c "SELECT count(*) FROM cases")
    located=$("${PSQL[@]}" -d bench -c "SELECT count(*) FROM cases WHERE grid_code != ''")
    ((stored == processed)) || die "PostGIS stored $stored cases, pgbench counted $processed transactions ($c clients)"
    tps=$(awk '/^tps = / { printf "%.0f", $3 }' "$raw")
    log "[$size] intake c=$c round $r: PostGIS $tps reports/s, $stored stored ($located in a grid)"
    if ((tps > ${M[$size,i_pg_c$c]:-0})); then
        M[$size,i_pg_c$c]=$tps
        M[$size,i_pg_lat_c$c]=$(pgbench_percentiles "$logs"/tx.* | sed 's/ / \/ /')
        M[$size,i_pg_grid_c$c]=$(calc "%.1f" "100 * $located / $stored")
    fi
    rm -rf "$logs"
}

intake() {
    local size=$1 out=$2 db=$3
    local points=$TMP/intake-points-$size.csv base=$TMP/intake-base-$size.sqlite c r
    intake_prepare "$size" "$out" "$db" "$points" "$base"
    intake_postgis_setup "$size" "$out" "$db" "$points"
    log "[$size] intake: $ROUNDS rounds at ${CLIENTS[*]} clients of: wangge serve + wrk, PostGIS + pgbench (${DURATION}s each)"
    for ((r = 1; r <= ROUNDS; r++)); do
        for c in "${CLIENTS[@]}"; do
            intake_wangge_round "$size" "$out" "$base" "$c" "$r" "$points"
            intake_postgis_round "$size" "$out" "$c" "$r"
        done
    done
    cp "$TMP/pg-intake-$size/server.log" "$out/postgres_intake.log"
    stop_postgres
    rm -f "$base"
}

# --- the tiles of one district -----------------------------------------------------------------

# key=value field $4 of the first line of file $1 that starts with $2 and also holds each of the
# key=value words of $3, e.g. zfield FILE mvt_zoom "config=plain z=14" median_ms.
zfield() {
    awk -v name="$2" -v want="$3" -v key="$4" '$1 == name {
        n = split(want, w, " ")
        for (j = 1; j <= n; j++) { found = 0; for (i = 2; i <= NF; i++) if ($i == w[j]) found = 1; if (!found) next }
        for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) { print kv[2]; exit } }
    }' "$1"
}
greater() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }

# tiles_bench picks the tiles (a fixed seed) and writes them with its feature counts.
tiles_list() {
    local size=$1 out=$2 db=$3 tiles=$4
    log "[$size] tiles_bench: up to $PER_ZOOM tiles per zoom at z12-z16 around random grids"
    local f=$out/tiles_bench.r0.txt
    timeout 600 "$TILES_BENCH" "$db" --per-zoom "$PER_ZOOM" --no-mvt --no-png --tiles-out "$tiles" >"$f" 2>&1 ||
        die "tiles_bench failed, see $f"
    grep -E '^tiles' "$f" >&2
    cp "$tiles" "$out/tiles.csv"
    M[$size,t_tiles]=$(field "$f" tiles n)
    M[$size,t_png_tiles]=$(awk -F, 'NR > 1 && $2 >= 14' "$tiles" | wc -l)
    local key
    for key in grids buildings roads; do M[$size,t_$key]=$(field "$f" snapshot_load "$key"); done
}

# A cluster with the five layers in EPSG:3857 and the tile list; PostGIS must put as many
# features in the tiles as Wangge before anything is timed.
postgis_tiles_setup() {
    local size=$1 out=$2 db=$3 tiles=$4
    local port
    port=$(free_port)
    log "[$size] PostGIS (tiles): cluster on 127.0.0.1:$port"
    start_postgres "$TMP/pg-tiles-$size" "$port"
    PG_CONN=(-h 127.0.0.1 -p "$port" -U postgres)
    PSQL=(psql "${PG_CONN[@]}" -X -q -A -t -v ON_ERROR_STOP=1)
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE bench"
    "${PSQL[@]}" -d bench -c "CREATE EXTENSION postgis"
    "${PSQL[@]}" -d bench -c "SELECT postgis_full_version()" >"$out/postgis_version.txt"

    log "[$size] PostGIS (tiles): loading streets, communities, grids, buildings, roads with ogr2ogr"
    local t0=$EPOCHREALTIME
    timeout 1800 ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=$port user=postgres dbname=bench" "$db" \
        streets communities grids buildings roads -nlt PROMOTE_TO_MULTI -lco GEOMETRY_NAME=geom -lco FID=fid \
        -lco SPATIAL_INDEX=NONE >"$out/ogr2ogr_tiles.log" 2>&1 || die "ogr2ogr failed, see $out/ogr2ogr_tiles.log"
    "${PSQL[@]}" -d bench -v tiles_csv="$tiles" -f "$BENCH_DIR/postgis_tiles_prepare.sql" \
        >"$out/postgis_tiles_prepare.log" 2>&1 || die "postgis_tiles_prepare.sql failed, see $out/postgis_tiles_prepare.log"
    M[$size,t_pg_load_s]=$(calc "%.1f" "$EPOCHREALTIME - $t0")

    local n same wangge postgis maxdiff
    "${PSQL[@]}" -d bench -f "$BENCH_DIR/postgis_tiles_validate.sql" >"$out/postgis_tiles_validate.txt"
    IFS='|' read -r n same wangge postgis maxdiff <"$out/postgis_tiles_validate.txt"
    [[ $n == "${M[$size,t_tiles]}" ]] || die "PostGIS holds $n tiles, tiles_bench wrote ${M[$size,t_tiles]}"
    # The same work on both sides: as many features within 0.5% over all tiles.
    awk -v a="$wangge" -v b="$postgis" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 0.005 * a) }' ||
        die "Wangge puts $wangge features in the tiles, PostGIS $postgis (see $out/postgis_tiles_validate.txt)"
    log "[$size] PostGIS and Wangge: $wangge / $postgis features; $same of $n tiles with the same counts in every layer (largest difference $maxdiff)"
    M[$size,t_features]="$wangge / $postgis"
    M[$size,t_same]="$same of $n"
    "${PSQL[@]}" -d bench -f "$BENCH_DIR/postgis_tiles_plans.sql" >"$out/postgis_tiles_plans.txt"
}

# One round: tiles_bench (MVT in both configurations, PNG), then PostGIS over the same tiles.
# The best round of each side counts, and its per-zoom figures with it.
tiles_round() {
    local size=$1 out=$2 db=$3 r=$4
    local f=$out/tiles_bench.r$r.txt g=$out/postgis_tiles.r$r.txt v config
    timeout 1200 "$TILES_BENCH" "$db" --per-zoom "$PER_ZOOM" --min-seconds "$TILE_SECONDS" --styles "$ROOT/styles" \
        >"$f" 2>&1 || die "tiles_bench failed, see $f"
    for config in served plain; do
        v=$(zfield "$f" mvt "config=$config" tiles_per_s)
        if greater "$v" "${M[$size,t_mvt_$config]:-0}"; then
            M[$size,t_mvt_$config]=$v
            M[$size,t_mvt_${config}_file]=$f
        fi
    done
    v=$(field "$f" png tiles_per_s)
    if greater "$v" "${M[$size,t_png]:-0}"; then
        M[$size,t_png]=$v
        M[$size,t_png_file]=$f
    fi
    timeout 1200 "${PSQL[@]}" -d bench -v min_seconds="$TILE_SECONDS" -f "$BENCH_DIR/postgis_tiles_pass.sql" >"$g" 2>&1 ||
        die "the PostGIS tile pass failed, see $g"
    v=$(field "$g" pg_mvt tiles_per_s)
    if greater "$v" "${M[$size,t_pg]:-0}"; then
        M[$size,t_pg]=$v
        M[$size,t_pg_file]=$g
    fi
}

tiles_generation() {
    local size=$1 out=$2 db=$3 tiles=$4 r z f
    postgis_tiles_setup "$size" "$out" "$db" "$tiles"
    log "[$size] $ROUNDS rounds of: tiles_bench (MVT twice, PNG; ${TILE_SECONDS}s each), PostGIS ST_AsMVT in the server (${TILE_SECONDS}s)"
    for ((r = 1; r <= ROUNDS; r++)); do tiles_round "$size" "$out" "$db" "$r"; done
    cp "$TMP/pg-tiles-$size/server.log" "$out/postgres_tiles.log"
    stop_postgres

    f=${M[$size,t_mvt_plain_file]}
    # CPU time over all passes of the best round of each side: a cross-check of the wall-clock
    # ratio on a loaded machine.
    M[$size,t_cpu_wangge]=$(zfield "$f" mvt config=plain all_passes_cpu_ms_per_tile)
    M[$size,t_cpu_pg]=$(field "${M[$size,t_pg_file]}" pg_mvt all_passes_cpu_ms_per_tile)
    M[$size,t_cpu]="${M[$size,t_cpu_wangge]} / ${M[$size,t_cpu_pg]}"
    M[$size,t_bytes]="$(zfield "$f" mvt config=plain bytes) / $(field "${M[$size,t_pg_file]}" pg_mvt bytes)"
    for z in 12 13 14 15 16; do
        M[$size,t_z${z}_served]=$(zfield "${M[$size,t_mvt_served_file]}" mvt_zoom "config=served z=$z" median_ms)
        M[$size,t_z${z}_plain]=$(zfield "${M[$size,t_mvt_plain_file]}" mvt_zoom "config=plain z=$z" median_ms)
        M[$size,t_z${z}_pg]=$(zfield "${M[$size,t_pg_file]}" pg_mvt_zoom "z=$z" median_ms)
        M[$size,t_z${z}_median]="${M[$size,t_z${z}_plain]:--} / ${M[$size,t_z${z}_pg]:--}"
        M[$size,t_z${z}_n]=$(zfield "${M[$size,t_pg_file]}" pg_mvt_zoom "z=$z" tiles)
    done
    for z in 14 15 16; do
        f=${M[$size,t_png_file]}
        M[$size,t_png_z${z}]=$(printf "%.1f / %.1f / %.1f" "$(zfield "$f" png_zoom "z=$z" median_ms)" \
            "$(zfield "$f" png_zoom "z=$z" p95_ms)" "$(zfield "$f" png_zoom "z=$z" cpu_median_ms)")
        M[$size,t_png_z${z}_median]=$(zfield "$f" png_zoom "z=$z" median_ms)
    done
}

# A Debian nginx in the foreground on a free port of 127.0.0.1, serving $2 as static files with
# gzip_static (a request that accepts gzip gets FILE.gz with Content-Encoding: gzip, any other the
# plain FILE), as many workers as cores, no access log, sendfile, an open-file cache, and
# keep-alive connections that are not closed after 1000 requests (wrk keeps its connections).
NGINX_BASE=
start_nginx() {
    local dir=$1 root=$2 port i
    port=$(free_port)
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<CONF
worker_processes $THREADS;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    types { application/vnd.mapbox-vector-tile mvt; image/png png; }
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 10000000;
    open_file_cache max=10000 inactive=120s;
    open_file_cache_valid 120s;
    gzip off;
    gzip_static on;
    gzip_vary on;
    etag on;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $root;
        add_header Cache-Control "public, max-age=60";
    }
}
CONF
    nginx -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/stdout.log" 2>&1 &
    NGINX_PID=$!
    for ((i = 0; i < 100; i++)); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/") == 000 ]] || break
        kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited, see $dir/error.log"
        sleep 0.1
    done
    NGINX_BASE=http://127.0.0.1:$port
}

# Downloads every path of list $1 from BASE to $2/<path>$3 in one curl; further arguments go to curl.
fetch_all() {
    local list=$1 dir=$2 suffix=$3
    shift 3
    awk -v base="$BASE" -v dir="$dir" -v sfx="$suffix" \
        '{ print "url = \"" base $0 "\""; print "output = \"" dir $0 sfx "\"" }' "$list" >"$TMP/curl.cfg"
    curl -sS --fail --fail-early --create-dirs "$@" -K "$TMP/curl.cfg" || die "fetching the tiles of $list failed"
}

# Cached tiles over HTTP: wangge serve after every tile was fetched once, against nginx serving
# the bytes it answered as static files.
tiles_http() {
    local size=$1 out=$2 db=$3 tiles=$4
    start_wangge "$size" "$out" "$db"
    local static=$TMP/static-$size mvt_paths=$TMP/mvt-paths-$size.txt png_paths=$TMP/png-paths-$size.txt
    awk -F, 'NR > 1 { print "/tiles/hierarchy/" $2 "/" $3 "/" $4 ".mvt" }' "$tiles" >"$mvt_paths"
    awk -F, 'NR > 1 && $2 >= 14 { print "/tiles/default/" $2 "/" $3 "/" $4 ".png" }' "$tiles" >"$png_paths"

    log "[$size] HTTP: warming the tile cache (every MVT and PNG tile once) and saving the bytes for nginx"
    local t0=$EPOCHREALTIME
    fetch_all "$mvt_paths" "$static" .gz -H 'Accept-Encoding: gzip'
    M[$size,t_warm_mvt_s]=$(calc "%.2f" "$EPOCHREALTIME - $t0")
    fetch_all "$mvt_paths" "$static" ""
    t0=$EPOCHREALTIME
    fetch_all "$png_paths" "$static" ""
    M[$size,t_warm_png_s]=$(calc "%.2f" "$EPOCHREALTIME - $t0")
    local p gz=0
    while read -r p; do
        [[ -s $static$p && -s $static$p.gz ]] || die "empty tile $p"
        gzip -dc "$static$p.gz" | cmp -s - "$static$p" || die "the gzip and plain answers of $p differ"
        gz=$((gz + $(stat -c %s "$static$p.gz")))
    done <"$mvt_paths"
    while read -r p; do [[ -s $static$p ]] || die "empty tile $p"; done <"$png_paths"
    M[$size,t_gz_mean]=$(calc "%.0f" "$gz / $(wc -l <"$mvt_paths")")
    chmod -R a+rX "$static" # curl --create-dirs makes directories 0750; nginx's workers are not root

    start_nginx "$TMP/nginx-$size" "$static"
    # The same bytes from both, with the same headers sent.
    local first_mvt first_png
    first_mvt=$(head -n 1 "$mvt_paths")
    first_png=$(head -n 1 "$png_paths")
    for p in "$first_mvt" "$(tail -n 1 "$mvt_paths")"; do
        cmp -s <(curl -fsS -H 'Accept-Encoding: gzip' "$BASE$p") <(curl -fsS -H 'Accept-Encoding: gzip' "$NGINX_BASE$p") ||
            die "wangge serve and nginx answer $p (gzip) with different bytes"
        cmp -s <(curl -fsS "$BASE$p") <(curl -fsS "$NGINX_BASE$p") ||
            die "wangge serve and nginx answer $p with different bytes"
    done
    cmp -s <(curl -fsS "$BASE$first_png") <(curl -fsS "$NGINX_BASE$first_png") ||
        die "wangge serve and nginx answer $first_png with different bytes"
    {
        echo "== wangge serve"
        curl -fsS -o /dev/null -D - -H 'Accept-Encoding: gzip' "$BASE$first_mvt"
        echo "== nginx"
        curl -fsS -o /dev/null -D - -H 'Accept-Encoding: gzip' "$NGINX_BASE$first_mvt"
    } >"$out/tile_headers.txt"
    grep -qi '^content-encoding: gzip' <(sed -n '/== nginx/,$p' "$out/tile_headers.txt") ||
        die "nginx does not answer gzip, see $out/tile_headers.txt"
    log "[$size] HTTP: wangge serve and nginx answer the same bytes"

    log "[$size] HTTP: wrk -t2 -c64 -d${DURATION}s, cached MVT (gzip, plain) and PNG, wangge serve and nginx, $ROUNDS rounds"
    local r kind server base list args raw rps pids ticks requests us
    for ((r = 1; r <= ROUNDS; r++)); do
        for kind in mvt_gzip mvt_plain png; do
            for server in wangge nginx; do
                base=$BASE
                pids=("$SERVER_PID")
                if [[ $server == nginx ]]; then
                    base=$NGINX_BASE
                    mapfile -t pids < <(echo "$NGINX_PID"; pgrep -P "$NGINX_PID")
                fi
                case $kind in
                    mvt_gzip) args=("$mvt_paths" gzip) ;;
                    mvt_plain) args=("$mvt_paths") ;;
                    png) args=("$png_paths") ;;
                esac
                raw=$out/wrk_tiles_${kind}_$server.r$r.txt
                ticks=$(cpu_ticks "${pids[@]}")
                timeout $((DURATION + 60)) wrk -t2 -c64 -d"${DURATION}s" --latency -s "$BENCH_DIR/wrk_requests.lua" \
                    "$base" -- "${args[@]}" >"$raw" 2>&1 || die "wrk failed, see $raw"
                ticks=$(($(cpu_ticks "${pids[@]}") - ticks))
                ! grep -q 'Non-2xx' "$raw" || die "non-2xx answers during wrk, see $raw"
                rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$raw")
                # The server's CPU per request (kernel included): steadier than req/s on a shared
                # machine, where wrk and other work take the cores by turns. The least round counts.
                requests=$(awk '/ requests in / { print $1 }' "$raw")
                us=$(calc "%.1f" "$ticks / $(getconf CLK_TCK) * 1e6 / $requests")
                if [[ -z ${M[$size,t_cpu_${kind}_$server]:-} ]] ||
                    awk -v a="$us" -v b="${M[$size,t_cpu_${kind}_$server]}" 'BEGIN { exit !(a < b) }'; then
                    M[$size,t_cpu_${kind}_$server]=$us
                fi
                if ((rps > ${M[$size,t_http_${kind}_$server]:-0})); then
                    M[$size,t_http_${kind}_$server]=$rps
                    M[$size,t_http_${kind}_${server}_p99]=$(awk '$1 == "99%" { print $2 }' "$raw")
                fi
            done
        done
    done
    M[$size,t_serve_rss]=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status")
    cp "$TMP/nginx-$size/error.log" "$out/nginx_error.log"
    cp "$TMP/nginx-$size/nginx.conf" "$out/nginx.conf"
    stop_nginx
    stop_server
    rm -rf "$static"
}

# --- the table ---------------------------------------------------------------------------------

verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t ? "PASS" : "MISS") }'; }
verdict_below() { awk -v v="$1" -v t="$2" 'BEGIN { print (v < t ? "PASS" : "MISS") }'; }

# One line per district size; FMT and RULE are set by table_header.
FMT=
RULE=
table_header() {
    local size header=() width=${2:-16}
    FMT="%-56s"
    for size in "${SIZES[@]}"; do FMT+=" %${width}s"; done
    FMT+="\n"
    for size in "${SIZES[@]}"; do header+=("$size hh"); done
    # shellcheck disable=SC2059
    printf "$FMT" "$1" "${header[@]}"
    # shellcheck disable=SC2059
    RULE=$(printf "$FMT" "" "${header[@]}" | tr -c '\n' '-')
    echo "$RULE"
}
row() {
    local label=$1 key=$2 cells=() size
    for size in "${SIZES[@]}"; do cells+=("${M[$size,$key]:--}"); done
    # shellcheck disable=SC2059
    printf "$FMT" "$label" "${cells[@]}"
}

print_table() {
    table_header "locate"
    row "grids" grids
    row "points in a grid (%)" in_grid_pct
    row "grid bounding boxes holding a point (mean)" candidates
    row "demo generation, wall time (s)" demo_s
    row "demo generation, peak RSS (MiB)" demo_rss
    row "SpatiaLite file (MiB)" db_mib
    row "snapshot load (s)" load_s
    row "wangge serve peak RSS (MiB)" serve_rss
    row "PostGIS load: ogr2ogr + GiST + ANALYZE (s)" pg_load_s
    echo "$RULE"
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
    echo "$RULE"
    row "in-process 1t / PostGIS prepared (target >= 50x)" ratio_pg
    row "  verdict" verdict_pg
    row "in-process 1t / PostGIS in one statement" ratio_pg_inserver
    row "HTTP locate / healthz (target >= 60%)" ratio_http
    row "  verdict" verdict_http
}

print_tiles_table() {
    table_header "tiles" 20
    row "grids / buildings / roads" t_layers
    row "tiles z12-z16 (hierarchy; z14-z16 for PNG)" t_tile_counts
    row "features in the tiles, Wangge / PostGIS" t_features
    row "tiles with the same features in every layer" t_same
    row "MVT bytes, all tiles, Wangge / PostGIS" t_bytes
    row "PostGIS load: ogr2ogr + 3857 + GiST + ANALYZE (s)" t_pg_load_s
    echo "$RULE"
    row "Wangge MVT as served, 1 thread (tiles/s)" t_mvt_served
    row "Wangge MVT, PostGIS's geometry, 1 thread (tiles/s)" t_mvt_plain
    row "PostGIS ST_AsMVT in the server, 1 backend (tiles/s)" t_pg
    row "CPU ms/tile, all passes: Wangge (PostGIS g.) / PostGIS" t_cpu
    local z
    for z in 12 13 14 15 16; do row "  z$z median ms, Wangge (PostGIS geom.) / PostGIS" "t_z${z}_median"; done
    row "PNG 256 px cold, 1 thread (tiles/s)" t_png
    for z in 14 15 16; do row "  z$z median / p95 / CPU median (ms)" "t_png_z$z"; done
    echo "$RULE"
    row "HTTP cached MVT gzip, wangge serve (req/s)" t_http_mvt_gzip_wangge
    row "HTTP cached MVT gzip, nginx (req/s)" t_http_mvt_gzip_nginx
    row "HTTP cached MVT plain, wangge serve (req/s)" t_http_mvt_plain_wangge
    row "HTTP cached MVT plain, nginx (req/s)" t_http_mvt_plain_nginx
    row "HTTP cached PNG, wangge serve (req/s)" t_http_png_wangge
    row "HTTP cached PNG, nginx (req/s)" t_http_png_nginx
    row "HTTP cached MVT gzip p99, wangge serve / nginx" t_http_mvt_gzip_p99
    row "server CPU us/request, MVT gzip: wangge serve / nginx" t_cpu_mvt_gzip
    row "server CPU us/request, MVT plain: wangge serve / nginx" t_cpu_mvt_plain
    row "server CPU us/request, PNG: wangge serve / nginx" t_cpu_png
    row "MVT gzip bytes (mean per tile)" t_gz_mean
    row "cache warm-up over HTTP: MVT / PNG, all tiles (s)" t_warm
    row "wangge serve peak RSS (MiB)" t_serve_rss
    echo "$RULE"
    row "MVT Wangge (PostGIS geom.) / PostGIS (target >= 2x)" t_ratio_plain
    row "  verdict" t_verdict_plain
    row "MVT Wangge as served / PostGIS (target >= 2x)" t_ratio_served
    row "  verdict" t_verdict_served
    row "MVT by CPU time, Wangge (PostGIS geom.) / PostGIS" t_ratio_cpu
    row "PNG cold, slowest median of z14-16 (target < 50 ms)" t_png_worst
    row "  verdict" t_verdict_png
    row "HTTP cached MVT gzip, Wangge / nginx (target >= 50%)" t_ratio_http_mvt_gzip
    row "  verdict" t_verdict_http_mvt_gzip
    row "HTTP cached MVT plain, Wangge / nginx (target >= 50%)" t_ratio_http_mvt_plain
    row "  verdict" t_verdict_http_mvt_plain
    row "HTTP cached PNG, Wangge / nginx (target >= 50%)" t_ratio_http_png
    row "  verdict" t_verdict_http_png
}

print_intake_table() {
    table_header "intake" 20
    row "reports at points of the grids' extent in a grid, Wangge (%)" i_w_grid_c${CLIENTS[0]}
    row "  PostGIS (%)" i_pg_grid_c${CLIENTS[0]}
    row "PostgreSQL durability (synchronous_commit=on)" i_pg_sync
    echo "$RULE"
    local c
    for c in "${CLIENTS[@]}"; do
        row "$c clients: Wangge reports/s (HTTP, answered after commit)" "i_w_c$c"
        row "  PostGIS reports/s (pgbench, 1 statement + commit)" "i_pg_c$c"
        row "  Wangge / PostGIS" "i_ratio_c$c"
        row "  Wangge p50 / p99 latency" "i_w_lat_c$c"
        row "  PostGIS p50 / p99 latency" "i_pg_lat_c$c"
        row "  Wangge jobs per transaction (transactions)" "i_w_batch_c$c"
        row "  Wangge 201s counted by wrk / reports stored" "i_w_check_c$c"
    done
    echo "$RULE"
    echo "(a report and its audit line are two jobs of the group commit; the audit line goes into the batch after the report's)"
    row "Wangge best (reports/s), at clients" i_best
    row "  target >= $INTAKE_TARGET reports/s" i_verdict
}

compute_intake_ratios() {
    local size c best at
    for size in "${SIZES[@]}"; do
        best=0
        at=-
        for c in "${CLIENTS[@]}"; do
            M[$size,i_ratio_c$c]=$(calc "%.2fx" "${M[$size,i_w_c$c]} / ${M[$size,i_pg_c$c]}")
            if ((${M[$size,i_w_c$c]} > best)); then
                best=${M[$size,i_w_c$c]}
                at=$c
            fi
        done
        M[$size,i_best]="$best at $at"
        M[$size,i_verdict]=$(awk -v v="$best" -v t="$INTAKE_TARGET" 'BEGIN { print (v >= t ? "PASS" : "FAIL") }')
    done
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

compute_tiles_ratios() {
    local size config kind z worst
    for size in "${SIZES[@]}"; do
        M[$size,t_layers]="${M[$size,t_grids]} / ${M[$size,t_buildings]} / ${M[$size,t_roads]}"
        M[$size,t_tile_counts]="${M[$size,t_tiles]} (${M[$size,t_png_tiles]} PNG)"
        for config in plain served; do
            M[$size,t_ratio_$config]=$(calc "%.1fx" "${M[$size,t_mvt_$config]} / ${M[$size,t_pg]}")
            M[$size,t_verdict_$config]=$(verdict "${M[$size,t_ratio_$config]%x}" 2)
        done
        M[$size,t_ratio_cpu]=$(calc "%.1fx" "${M[$size,t_cpu_pg]} / ${M[$size,t_cpu_wangge]}")
        worst=0
        for z in 14 15 16; do worst=$(max "$worst" "${M[$size,t_png_z${z}_median]}"); done
        M[$size,t_png_worst]=$(calc "%.1f ms" "$worst")
        M[$size,t_verdict_png]=$(verdict_below "$worst" 50)
        ((TILES_HTTP == 1)) || continue
        for kind in mvt_gzip mvt_plain png; do
            M[$size,t_ratio_http_$kind]=$(calc "%.0f%%" \
                "100 * ${M[$size,t_http_${kind}_wangge]} / ${M[$size,t_http_${kind}_nginx]}")
            M[$size,t_verdict_http_$kind]=$(verdict "${M[$size,t_ratio_http_$kind]%\%}" 50)
        done
        M[$size,t_http_mvt_gzip_p99]="${M[$size,t_http_mvt_gzip_wangge_p99]} / ${M[$size,t_http_mvt_gzip_nginx_p99]}"
        for kind in mvt_gzip mvt_plain png; do
            M[$size,t_cpu_$kind]="${M[$size,t_cpu_${kind}_wangge]} / ${M[$size,t_cpu_${kind}_nginx]}"
        done
        M[$size,t_warm]="${M[$size,t_warm_mvt_s]} / ${M[$size,t_warm_png_s]}"
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
        echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "commit: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
        echo "wangge: $WANGGE"
        echo "sizes: ${SIZES[*]}; points: $POINTS; duration: ${DURATION}s; rounds: $ROUNDS (best counts); threads: $THREADS"
        ! want intake || echo "intake: clients ${CLIENTS[*]}; $INTAKE_POINTS points; wangge serve --threads $THREADS; $(df -T "$TMP" | awk 'NR == 2 { print $2 }') under $TMP"
        echo "parts: ${ONLY:-locate tiles}$( ((TILES_HTTP == 1)) || echo ' (tiles without HTTP)'); tiles per zoom: $PER_ZOOM; seconds per tile measurement: $TILE_SECONDS"
        echo "postgres: $("$PG_BIN/postgres" --version); wrk: $(wrk -v 2>&1 | head -n 1)"
        ! want tiles || echo "nginx: $(nginx -v 2>&1)"
    } >"$results/environment.txt"

    local size
    for size in "${SIZES[@]}"; do
        local out=$results/$size db=$TMP/demo-$size.sqlite points=$TMP/points-$size.csv tiles=$TMP/tiles-$size.csv
        mkdir -p "$out"
        generate "$size" "$out" "$db"
        if want locate; then
            prepare_points "$size" "$out" "$db" "$points"
            lookups "$size" "$out" "$db" "$points"
            http "$size" "$out" "$db" "$points"
        fi
        ! want intake || intake "$size" "$out" "$db"
        if want tiles; then
            tiles_list "$size" "$out" "$db" "$tiles"
            tiles_generation "$size" "$out" "$db" "$tiles"
            ((TILES_HTTP == 0)) || tiles_http "$size" "$out" "$db" "$tiles"
        fi
        rm -f "$db" "$db"-wal "$db"-shm
    done

    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$results/environment.txt"
    {
        cat "$results/environment.txt"
        if want locate; then
            compute_ratios
            echo
            print_table
        fi
        if want tiles; then
            compute_tiles_ratios
            echo
            print_tiles_table
        fi
        if want intake; then
            compute_intake_ratios
            echo
            print_intake_table
        fi
    } | tee "$results/table.txt"
    log "raw outputs in $results"
}

main
# The third table: grid division (bench/balance.sh), when all parts run.
if [[ -z $ONLY ]]; then bash "$BENCH_DIR/balance.sh"; fi
