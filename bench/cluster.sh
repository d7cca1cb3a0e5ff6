#!/usr/bin/env bash
# Many servers on PostgreSQL against one on SpatiaLite, side by side in one run (docs/SCALING.md):
#   reads   wrk on /api/v1/locate, GeoJSON (a community's grids) and vector tiles (z14) from one
#           server on SpatiaLite, one server on PostgreSQL, and three on PostgreSQL behind HAProxy
#   intake  POST /api/v1/incidents (bench/intake_reports.lua), every report committed durably,
#           on the same three set-ups; the reports stored are counted against the 201s
#   reload  snapshot load time on each backend, and the time from a rebalance applied through one
#           PostgreSQL server to another serving it (NOTIFY)
# On a 2-core machine three servers share the cores of one: the point is that the cost per
# request does not grow, not that throughput triples.
#
#   bash bench/cluster.sh [--households 3500000] [--duration 10] [--clients 32] [--wangge PATH]
#
# --wangge names the binary (default build/ci/src/app/wangge). Needs root (installs wrk, haproxy
# and jq when missing; PostgreSQL runs as the postgres user, durable: fsync and synchronous_commit
# on). Raw outputs go to bench/results/cluster-<timestamp>/; the summary is printed and kept there.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
HOUSEHOLDS=3500000
DURATION=10
CLIENTS=32
WANGGE=$ROOT/build/ci/src/app/wangge

log() { printf '[cluster %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
while (($#)); do
    case $1 in
        --households) HOUSEHOLDS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --clients) CLIENTS=$2; shift 2 ;;
        --wangge) WANGGE=$(realpath "$2"); shift 2 ;;
        -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1" ;;
    esac
done
[[ $EUID -eq 0 ]] || die "run as root"
[[ -x $WANGGE ]] || die "no wangge binary at $WANGGE (build it, or pass --wangge)"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || missing+=(haproxy)
command -v jq >/dev/null || missing+=(jq)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
if ((${#missing[@]})); then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

OUT=$ROOT/bench/results/cluster-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/wangge-cluster-bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    bash "$ROOT/scripts/pg-cluster.sh" stop "$TMP/pg" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
    local port
    for _ in {1..200}; do
        port=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
    die "no free port"
}
wait_healthy() {
    for _ in {1..600}; do
        curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0
        sleep 0.1
    done
    die "nothing healthy on port $1"
}
# serve DB PORT LOG [extra...]: a server in the background, waited for.
serve() {
    local db=$1 port=$2 logf=$3
    shift 3
    "$WANGGE" serve --db "$db" --port "$port" --threads 4 --photo-dir "$TMP/photos" "$@" >"$logf" 2>&1 &
    PIDS+=($!)
    wait_healthy "$port"
}
stop_all() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}

# --- the district on both backends -------------------------------------------------------------
FILE=$TMP/district.sqlite
log "demo district of $HOUSEHOLDS households, five years on"
"$WANGGE" demo "$FILE" --households "$HOUSEHOLDS" --years-later 5 >"$OUT/demo.log" 2>&1 || die "demo failed, see $OUT/demo.log"
PG=$(bash "$ROOT/scripts/pg-cluster.sh" start "$TMP/pg")
psql "$PG" -qc "CREATE DATABASE district"
DB=${PG%/*}/district
log "copy to $DB"
t0=$EPOCHREALTIME
"$WANGGE" copy --from "$FILE" --to "$DB" >"$OUT/copy.log" 2>&1 || die "copy failed, see $OUT/copy.log"
COPY_S=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
for where in "$FILE" "$DB"; do
    "$WANGGE" user add bench --role admin --no-password --db "$where" >>"$OUT/users.log" 2>&1
done
TOKEN_FILE=$("$WANGGE" token create --user bench --db "$FILE" 2>>"$OUT/users.log" | head -n 1)
TOKEN_PG=$("$WANGGE" token create --user bench --db "$DB" 2>>"$OUT/users.log" | head -n 1)

# Requests: points uniform over the grids' extent; each community's grids; z14 tiles over it.
extent=$(sqlite3 -csv "$FILE" ".load mod_spatialite" \
    "SELECT MbrMinX(e), MbrMinY(e), MbrMaxX(e), MbrMaxY(e) FROM (SELECT Extent(geom) AS e FROM grids)")
IFS=, read -r x0 y0 x1 y1 <<<"$extent"
awk -v x0="$x0" -v y0="$y0" -v x1="$x1" -v y1="$y1" 'BEGIN { srand(20261205)
    for (i = 0; i < 20000; i++) printf "%d,%.6f,%.6f,\n", i, x0 + rand() * (x1 - x0), y0 + rand() * (y1 - y0) }' >"$TMP/points.csv"
awk -v x0="$x0" -v y0="$y0" -v x1="$x1" -v y1="$y1" 'BEGIN { srand(20261205)
    for (i = 0; i < 20000; i++) printf "%.6f,%.6f\n", x0 + rand() * (x1 - x0), y0 + rand() * (y1 - y0) }' >"$TMP/report_points.csv"
sqlite3 "$FILE" "SELECT '/api/v1/grids?parent=' || code || '&limit=100' FROM communities" >"$TMP/geojson.txt"
awk -v x0="$x0" -v y0="$y0" -v x1="$x1" -v y1="$y1" 'function tx(lon) { return int((lon + 180) / 360 * 16384) }
    function ty(lat,  r) { r = lat * 3.14159265358979 / 180; return int((1 - log(sin(r) / cos(r) + 1 / cos(r)) / 3.14159265358979) / 2 * 16384) }
    BEGIN { for (x = tx(x0); x <= tx(x1); x++) for (y = ty(y1); y <= ty(y0); y++) printf "/tiles/hierarchy/14/%d/%d.mvt\n", x, y }' >"$TMP/tiles.txt"
CATEGORIES=$(jq -r '[.classes[].subclasses[].code] | join(",")' "$ROOT/data/categories.json")
log "$(wc -l <"$TMP/geojson.txt") communities, $(wc -l <"$TMP/tiles.txt") z14 tiles"

declare -A R
# wrk_run NAME PORT ARG: req/s and p50/p99 of wrk with bench/wrk_requests.lua.
wrk_run() {
    local name=$1 port=$2 arg=$3 raw=$OUT/wrk_$1.txt
    wrk -t2 -c"$CLIENTS" -d"${DURATION}s" --latency -s "$BENCH_DIR/wrk_requests.lua" "http://127.0.0.1:$port" -- "$arg" \
        >"$raw" 2>&1 || die "wrk failed, see $raw"
    ! grep -q 'Non-2xx' "$raw" || die "non-2xx answers, see $raw"
    R[$name]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$raw")
    R[$name,lat]=$(awk '$1 == "50%" { a = $2 } $1 == "99%" { b = $2 } END { print a " / " b }' "$raw")
    log "$name: ${R[$name]} req/s (p50 / p99 ${R[$name,lat]})"
}
intake_run() {
    local name=$1 port=$2 token=$3 raw=$OUT/wrk_$1.txt
    wrk -t2 -c"$CLIENTS" -d"${DURATION}s" --timeout 10s --latency -s "$BENCH_DIR/intake_reports.lua" \
        "http://127.0.0.1:$port" -- "$TMP/report_points.csv" "$token" "$name" "$CATEGORIES" >"$raw" 2>&1 || die "wrk failed, see $raw"
    R[$name]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$raw")
    R[$name,lat]=$(awk '$1 == "50%" { a = $2 } $1 == "99%" { b = $2 } END { print a " / " b }' "$raw")
    R[$name,created]=$(awk '/intake_answers/ { for (i = 1; i <= NF; i++) if ($i ~ /^created=/) { sub("created=", "", $i); print $i } }' "$raw")
    log "$name: ${R[$name]} reports/s, ${R[$name,created]} answered 201"
}
reads() {
    local label=$1 port=$2
    wrk_run "$label-locate" "$port" "$TMP/points.csv"
    wrk_run "$label-geojson" "$port" "$TMP/geojson.txt"
    wrk_run "$label-tiles" "$port" "$TMP/tiles.txt"
}
load_seconds() { sed -n 's/.* in \([0-9.]*\)s$/\1/p' "$1" | head -n 1; }

# --- one server on SpatiaLite --------------------------------------------------------------------
P=$(free_port)
serve "$FILE" "$P" "$OUT/serve_sqlite.log"
R[load-sqlite]=$(load_seconds "$OUT/serve_sqlite.log")
reads sqlite "$P"
intake_run sqlite-intake "$P" "$TOKEN_FILE"
stop_all
R[stored-sqlite]=$(sqlite3 "$FILE" "SELECT count(*) FROM incidents")

# --- one, then three servers on PostgreSQL ---------------------------------------------------------
P1=$(free_port); P2=$(free_port); P3=$(free_port); PH=$(free_port)
serve "$DB" "$P1" "$OUT/serve_pg1.log"
R[load-pg]=$(load_seconds "$OUT/serve_pg1.log")
reads pg1 "$P1"
intake_run pg1-intake "$P1" "$TOKEN_PG"
serve "$DB" "$P2" "$OUT/serve_pg2.log"
serve "$DB" "$P3" "$OUT/serve_pg3.log"
cat >"$TMP/haproxy.cfg" <<EOF
global
  maxconn 4000
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
frontend in
  bind 127.0.0.1:$PH
  default_backend wangge
backend wangge
  balance roundrobin
  option httpchk GET /healthz
  server s1 127.0.0.1:$P1 check
  server s2 127.0.0.1:$P2 check
  server s3 127.0.0.1:$P3 check
EOF
haproxy -db -f "$TMP/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 &
PIDS+=($!)
wait_healthy "$PH"
reads pg3 "$PH"
intake_run pg3-intake "$PH" "$TOKEN_PG"
R[stored-pg]=$(psql "$DB" -XAtc "SELECT count(*) FROM incidents")

# --- a rebalance through one server, served by another ---------------------------------------------
community=
for code in $(sqlite3 "$FILE" "SELECT code FROM communities ORDER BY code"); do
    changes=$(curl -sf -X POST -H "Authorization: Bearer $TOKEN_PG" -H 'Content-Type: application/json' -d '{}' \
        "http://127.0.0.1:$P1/api/v1/communities/$code/rebalance" | jq -r .changes)
    if [[ $changes == true ]]; then community=$code; break; fi
done
[[ -n $community ]] || die "no community to rebalance"
base=$(curl -sf "http://127.0.0.1:$P2/healthz" | jq .version)
t0=$EPOCHREALTIME
curl -sf -X POST -H "Authorization: Bearer $TOKEN_PG" -H 'Content-Type: application/json' \
    -d "{\"apply\": true, \"base_version\": $base}" "http://127.0.0.1:$P1/api/v1/communities/$community/rebalance" >"$OUT/applied.json" ||
    die "apply failed"
t1=$EPOCHREALTIME
until (($(curl -sf "http://127.0.0.1:$P2/healthz" | jq .version) > base)); do sleep 0.005; done
t2=$EPOCHREALTIME
R[apply-ms]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
R[heard-ms]=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
stop_all

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
{
    echo "# Many servers on PostgreSQL against one on SpatiaLite ($(date -u +%F), $(nproc) cores, $HOUSEHOLDS households)"
    echo
    echo "wrk -t2 -c$CLIENTS -d${DURATION}s; requests per second (p50 / p99 latency); ratios to SpatiaLite"
    echo
    echo "| | 1 server, SpatiaLite | 1 server, PostgreSQL | 3 servers, PostgreSQL, HAProxy | PG 1 / SQLite | PG 3 / SQLite |"
    echo "|---|---|---|---|---|---|"
    for what in locate geojson tiles intake; do
        echo "| $what | ${R[sqlite-$what]} (${R[sqlite-$what,lat]}) | ${R[pg1-$what]} (${R[pg1-$what,lat]}) | ${R[pg3-$what]} (${R[pg3-$what,lat]}) | $(ratio "${R[pg1-$what]}" "${R[sqlite-$what]}") | $(ratio "${R[pg3-$what]}" "${R[sqlite-$what]}") |"
    done
    echo
    echo "- reports answered 201 / stored: SpatiaLite ${R[sqlite-intake,created]} / ${R[stored-sqlite]}; PostgreSQL $((${R[pg1-intake,created]} + ${R[pg3-intake,created]})) / ${R[stored-pg]}"
    echo "- snapshot load at start: SpatiaLite ${R[load-sqlite]} s, PostgreSQL ${R[load-pg]} s; wangge copy to PostgreSQL $COPY_S s"
    echo "- rebalance of $community applied through server 1 in ${R[apply-ms]} ms; served by server 2 ${R[heard-ms]} ms after the answer (NOTIFY, new snapshot loaded, tiles invalidated)"
} | tee "$OUT/summary.md"
