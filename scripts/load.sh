#!/usr/bin/env bash
# Load run of a live `wangge serve` on loopback (docs/BENCHMARKS.md, "Load"):
#   - a mix of locate, GeoJSON pages, OGC API Features, vector and rendered tiles, incident
#     intake, Open311 (filing and the service list) and sign-ins, one wrk per route class at once
#     (bench/load_mix.lua), for --duration seconds after a warm-up (every tile of the mix once,
#     into the tile caches, then 10 s of the mix);
#   - meanwhile --idle idle keep-alive connections (bench/idle_clients.py), each sending a request
#     every 20 s so that the server's 30 s request timeout does not close it, held for the whole run;
#   - and --slow slow clients (bench/slowloris.py) trickling header bytes, which the server must
#     close at its 30 s request timeout while it keeps serving everyone else.
# Prints a Markdown table (route, requests, req/s, p50, p99, errors) and the checks, and exits
# non-zero when one fails: an error in the mix, RSS after the run more than 10% above its value
# after the warm-up, more open file descriptors after the run than after the warm-up, an idle
# connection lost, a slow client not closed in time, the server dead or not ready.
#
#   bash scripts/load.sh [--duration 60] [--quick] [--binary PATH] [--idle 2000] [--slow 200] [--keep]
#
# --quick: a smoke test under a minute (5 s mix after a 3 s warm-up, 200 idle connections, 50
# slow clients for 34 s: the server closes them at 30 s and has no option to shorten that);
# --idle and --slow still apply.
# --binary: the wangge to run (default build/ci/src/app/wangge, else the first under build/).
# --keep: keep the temporary directory (database, server log, raw outputs); it is kept anyway
# when a check fails. Needs wrk (Debian package wrk), python3 and curl; exits 77 (skipped) without them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=$ROOT/bench

DURATION=60
WARMUP=10
IDLE=2000
SLOW=200
IDLE_GIVEN=
SLOW_GIVEN=
QUICK=0
KEEP=0
WANGGE=
IDLE_INTERVAL=20   # seconds between the requests of an idle connection
REQUEST_TIMEOUT=30 # the server's request timeout (docs/API.md), not configurable
RSS_LIMIT_PCT=10
PASSWORD=load-password-1
# Connections per route class: the weights of the mix. Sign-ins hash a password (Argon2id,
# 64 MiB) each, so their two connections pause 200 ms between requests.
ROUTES=(locate geojson ogc mvt png intake open311 login)
declare -A CONNECTIONS=([locate]=8 [geojson]=4 [ogc]=4 [mvt]=8 [png]=2 [intake]=8 [open311]=4 [login]=2)
LOGIN_DELAY_MS=200
LOGIN_USERS=4

usage() { sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
log() { printf '[load %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

while (($#)); do
    case $1 in
        --duration) DURATION=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --binary) WANGGE=$2; shift 2 ;;
        --idle) IDLE_GIVEN=$2; shift 2 ;;
        --slow) SLOW_GIVEN=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h | --help) usage ;;
        *) log "unknown argument: $1"; usage 2 ;;
    esac
done
if ((QUICK)); then
    DURATION=5
    WARMUP=3
    IDLE=200
    SLOW=50
fi
IDLE=${IDLE_GIVEN:-$IDLE}
SLOW=${SLOW_GIVEN:-$SLOW}
[[ $IDLE =~ ^[0-9]+$ && $SLOW =~ ^[0-9]+$ && $IDLE -ge 1 && $SLOW -ge 1 ]] || die "--idle and --slow take counts of at least 1"
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 ]] || die "--duration takes whole seconds"
# Slow clients must live past the request timeout, or there is nothing to see.
SLOW_SECONDS=$((DURATION > REQUEST_TIMEOUT + 4 ? DURATION : REQUEST_TIMEOUT + 4))

for tool in wrk python3 curl; do
    if ! command -v "$tool" >/dev/null; then
        echo "WANGGE-SKIP: $tool is not installed (Debian: apt-get install -y $tool)"
        exit 77
    fi
done

if [[ -z $WANGGE ]]; then
    if [[ -x $ROOT/build/ci/src/app/wangge ]]; then
        WANGGE=$ROOT/build/ci/src/app/wangge
    else
        WANGGE=$(find "$ROOT/build" -name wangge -type f -perm -u+x 2>/dev/null | head -n 1 || true)
    fi
fi
[[ -n $WANGGE && -x $WANGGE ]] ||
    die "no wangge binary: build it with 'cmake --preset ci && ninja -C build/ci wangge', or give --binary PATH"

# Every connection is a file descriptor, here and in the server (which raises its own limit to
# the hard limit and lowers --max-connections to fit).
MAX_CONNECTIONS=$((IDLE + SLOW + 1024))
NEED_FDS=$((MAX_CONNECTIONS + 256))
hard=$(ulimit -Hn)
[[ $hard == unlimited ]] && hard=1048576
((hard >= NEED_FDS)) || die "the open-file hard limit is $hard; this run needs $NEED_FDS (fewer --idle, or raise it)"
ulimit -n "$hard"

# --- processes and cleanup ---------------------------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wangge-load.XXXXXX")
SERVER_PID=
SAMPLER_PID=
IDLE_PID=
SLOW_PID=
WRK_PIDS=()
FAILED=0

source "$ROOT/scripts/lib.sh" # wait_gone

stop_pid() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 20 || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    local pid
    for pid in "${WRK_PIDS[@]}"; do stop_pid "$pid"; done
    stop_pid "$IDLE_PID"
    stop_pid "$SLOW_PID"
    stop_pid "$SAMPLER_PID"
    stop_pid "$SERVER_PID"
    if ((KEEP || FAILED || status != 0)); then
        log "kept $TMP (database, serve.log, raw outputs)"
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status"; }
fd_count() { ls "/proc/$SERVER_PID/fd" | wc -l; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# key=value field $3 of the first line of file $1 that starts with $2.
field() {
    awk -v name="$2" -v key="$3" '$1 == name {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) { print kv[2]; exit } }
    }' "$1" 2>/dev/null || true
}
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

# --- the district, the accounts, the server ----------------------------------------------------

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
DB=$TMP/load.sqlite
log "demo district in $DB ($WANGGE)"
"$WANGGE" demo "$DB" >"$TMP/demo.log" 2>&1 || die "wangge demo failed: $(cat "$TMP/demo.log")"
GRID=$("$WANGGE" list grids --json --db "$DB" | json 'd[0]["code"]')
STREET=$("$WANGGE" list streets --json --db "$DB" | json 'd[0]["code"]')

log "accounts: load-admin, load-worker ($GRID), load-open311 ($STREET), load-user1..$LOGIN_USERS"
user_add() { "$WANGGE" user add "$@" --db "$DB" >>"$TMP/accounts.log" 2>&1 || die "wangge user add $1 failed"; }
token() { "$WANGGE" token create --user "$1" --label load --db "$DB" 2>>"$TMP/accounts.log"; }
user_add load-admin --role admin --no-password
user_add load-worker --role worker --scope "$GRID" --no-password
user_add load-open311 --role street --scope "$STREET" --no-password
users=()
for ((i = 1; i <= LOGIN_USERS; i++)); do
    user_add "load-user$i" --role viewer --scope "$STREET" --password-stdin <<<"$PASSWORD"
    users+=("load-user$i")
done
ADMIN_TOKEN=$(token load-admin)
WORKER_TOKEN=$(token load-worker)
OPEN311_TOKEN=$(token load-open311)

log "wangge serve --max-connections $MAX_CONNECTIONS (open-file limit $(ulimit -n))"
: >"$TMP/serve.log" # there before the server's first line, which is read below
"$WANGGE" serve --db "$DB" --port 0 --max-connections "$MAX_CONNECTIONS" >>"$TMP/serve.log" 2>&1 &
SERVER_PID=$!
PORT=
for ((i = 0; i < 300; i++)); do
    PORT=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\) .*/\1/p' "$TMP/serve.log" | head -n 1 || true)
    [[ -n $PORT ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "wangge serve exited: $(tail -n 5 "$TMP/serve.log")"
    sleep 0.1
done
[[ -n $PORT ]] || die "wangge serve did not say where it listens (see $TMP/serve.log)"
URL=http://127.0.0.1:$PORT
for ((i = 0; i < 300; i++)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz") == 200 ]] && break
    sleep 0.1
done
[[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz") == 200 ]] || die "$URL/readyz does not answer 200"
if grep -q 'lowered' "$TMP/serve.log"; then log "$(grep 'lowered' "$TMP/serve.log")"; fi

# What the mix varies over: the grids' box, the collections' sizes, the categories.
BBOX=$(curl -sf "$URL/tiles/grids.json" | json '",".join(str(v) for v in d["bounds"])')
COUNTS=
for collection in grids buildings communities; do
    n=$(curl -sf "$URL/api/v1/$collection?limit=1" | json 'd["numberMatched"]')
    COUNTS+="${COUNTS:+,}$collection:$n"
done
LAYERS=
for layer in grids buildings roads communities streets hierarchy; do
    LAYERS+="${LAYERS:+,}$layer:$(curl -sf "$URL/tiles/$layer.json" | json 'd["minzoom"]')"
done
CATEGORIES=$(curl -sf "$URL/open311/v2/services.json" | json '",".join(s["service_code"] for s in d[:8])')
RUN=load-$$-$(date +%s)
log "serving $URL; box $BBOX; $COUNTS; layers $LAYERS; categories $CATEGORIES"

# --- the mix -----------------------------------------------------------------------------------

# run_mix SECONDS TAG [ROUTE...]: one wrk per route class (all by default), all at once; waits
# for them. With TAG warmup-fill, the tile routes fetch each of their tiles once and stop.
run_mix() {
    local seconds=$1 tag=$2 route args order=
    shift 2
    local routes=("$@")
    ((${#routes[@]})) || routes=("${ROUTES[@]}")
    [[ $tag != warmup-fill ]] || order=order=once
    WRK_PIDS=()
    for route in "${routes[@]}"; do
        args=("$route" "bbox=$BBOX" "counts=$COUNTS")
        case $route in
            intake) args+=("token=$WORKER_TOKEN" "categories=$CATEGORIES" "run=$RUN-$tag") ;;
            open311) args+=("token=$OPEN311_TOKEN" "categories=$CATEGORIES" "run=$RUN-$tag") ;;
            login) args+=("users=$(IFS=,; echo "${users[*]}")" "password=$PASSWORD" "origin=$URL") ;;
            mvt) args+=("layers=$LAYERS" ${order:+"$order"}) ;;
            png) [[ -z $order ]] || args+=("$order") ;;
        esac
        local delay=0
        [[ $route != login ]] || delay=$LOGIN_DELAY_MS
        LOAD_DELAY_MS=$delay timeout $((seconds + 60)) \
            wrk -t1 -c"${CONNECTIONS[$route]}" -d"${seconds}s" --timeout 10s -s "$BENCH_DIR/load_mix.lua" "$URL" -- "${args[@]}" \
            >"$TMP/$tag-$route.out" 2>"$TMP/$tag-$route.err" &
        WRK_PIDS+=($!)
    done
    local pid status=0
    for pid in "${WRK_PIDS[@]}"; do wait "$pid" || status=1; done
    WRK_PIDS=()
    return $status
}

# start_clients TAG SLOW_SECONDS: the idle keep-alive connections and the slow clients, in the
# background; waits until every idle connection has had its first answer.
start_clients() {
    local tag=$1 slow_seconds=$2 i
    python3 "$BENCH_DIR/idle_clients.py" --port "$PORT" --count "$IDLE" --interval "$IDLE_INTERVAL" \
        --ready "$TMP/$tag-idle.ready" >"$TMP/$tag-idle.out" 2>"$TMP/$tag-idle.err" &
    IDLE_PID=$!
    python3 "$BENCH_DIR/slowloris.py" --port "$PORT" --count "$SLOW" --duration "$slow_seconds" \
        --timeout "$REQUEST_TIMEOUT" >"$TMP/$tag-slow.out" 2>"$TMP/$tag-slow.err" &
    SLOW_PID=$!
    for ((i = 0; i < 600; i++)); do
        [[ -s $TMP/$tag-idle.ready ]] && return 0
        kill -0 "$IDLE_PID" 2>/dev/null || die "idle_clients.py exited: $(cat "$TMP/$tag-idle.err")"
        sleep 0.1
    done
    die "the idle connections were not all answered within 60 s"
}

# stop_clients TAG: waits for the slow clients' end, then ends the idle connections.
stop_clients() {
    local tag=$1
    wait "$SLOW_PID" || log "slowloris.py failed: $(cat "$TMP/$tag-slow.err")"
    SLOW_PID=
    kill -TERM "$IDLE_PID" 2>/dev/null || true
    wait "$IDLE_PID" || log "idle_clients.py failed: $(cat "$TMP/$tag-idle.err")"
    IDLE_PID=
}

# The warm-up is the whole load for a while, so that RSS after it holds what serving it takes:
# - the tile caches (in memory, bounded by --tile-cache-mb) hold every tile of the mix, fetched
#   once first, so that a growth after it is not the caches filling;
# - the memory of as many connections as the run holds at once: freed when they close, the
#   allocator keeps most of it for the next ones (about 10 MiB for 2,000 connections, measured
#   with glibc's malloc_stats: the bytes in use come back within 0.5 MiB);
# - SQLite's page caches and prepared statements, the group commit, the sign-ins' hashing.
log "warm-up: every tile of the mix once, then ${WARMUP}s of the mix with $IDLE idle connections and $SLOW slow clients"
run_mix 120 warmup-fill mvt png || die "wrk failed filling the tile caches (see $TMP/warmup-fill-*.err)"
for route in mvt png; do
    grep -q '^load_fill' "$TMP/warmup-fill-$route.out" || die "the $route tiles were not all fetched within 120 s"
done
start_clients warmup "$WARMUP"
run_mix "$WARMUP" warmup || die "wrk failed in the warm-up (see $TMP/warmup-*.err)"
stop_clients warmup
sleep 1.5 # connections linger up to 1 s after the last answer
WARMUP_ERRORS=$(cat "$TMP"/warmup-*.out | awk '$1 == "load_route" || $1 == "load_fill" { for (i = 2; i <= NF; i++) if ($i ~ /^errors=/) s += substr($i, 8) } END { print s + 0 }')
((WARMUP_ERRORS == 0)) || log "errors in the warm-up: $WARMUP_ERRORS ($(cat "$TMP"/warmup-*.err | head -c 600))"
# The warm-up's last connections may still be closing: the baseline is a count that holds still.
previous=-1
for ((i = 0; i < 20; i++)); do
    now=$(fd_count)
    ((now == previous)) && break
    previous=$now
    sleep 0.5
done
RSS_BEFORE=$(rss_kib)
FDS_BEFORE=$(fd_count)
log "after the warm-up: RSS $(mib "$RSS_BEFORE") MiB, $FDS_BEFORE open fds"

# RSS and fds every second while the run lasts.
(
    while kill -0 "$SERVER_PID" 2>/dev/null; do
        echo "$(date +%s) $(rss_kib) $(fd_count)"
        sleep 1
    done
) >"$TMP/samples.txt" 2>/dev/null &
SAMPLER_PID=$!

log "$IDLE idle keep-alive connections (a request every ${IDLE_INTERVAL}s each); $SLOW slow clients for ${SLOW_SECONDS}s"
start_clients run "$SLOW_SECONDS"
FDS_IDLE=$(fd_count)
log "idle connections $(cat "$TMP/run-idle.ready"); server fds $FDS_IDLE (with the slow clients); the mix for ${DURATION}s"
MIX_OK=1
run_mix "$DURATION" mix || MIX_OK=0
stop_clients run

# Every client has gone: the server's fds must come back to where they were after the warm-up.
sleep 1.5
for ((i = 0; i < 20; i++)); do
    (($(fd_count) <= FDS_BEFORE)) && break
    sleep 0.5
done
RSS_AFTER=$(rss_kib)
FDS_AFTER=$(fd_count)
HWM=$(hwm_kib)
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=
RSS_PEAK=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$TMP/samples.txt")
FDS_PEAK=$(awk 'BEGIN { m = 0 } $3 > m { m = $3 } END { print m }' "$TMP/samples.txt")
READY=$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz" || true)
SERVER_5XX=$(curl -sf -H "Authorization: Bearer $ADMIN_TOKEN" "$URL/metrics" |
    awk '/^wangge_http_requests_total/ && /status="5xx"/ { s += $NF } END { print s + 0 }' || echo "?")

# --- the table ---------------------------------------------------------------------------------

check() { # check NAME VALUE OK(0/1)
    local verdict=PASS
    if (($3 == 0)); then verdict=FAIL; FAILED=1; fi
    printf '| %s | %s | %s |\n' "$1" "$2" "$verdict"
}

{
    echo "date: $(date -Iseconds); host: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "load average before / after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "commit: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown); wangge: $WANGGE"
    echo "mix ${DURATION}s after a ${WARMUP}s warm-up; $IDLE idle connections; $SLOW slow clients for ${SLOW_SECONDS}s; wrk: $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
    echo
    echo "| route | connections | requests | req/s | p50 ms | p99 ms | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    total_requests=0
    total_rps=0
    total_errors=0
    missing=0
    for route in "${ROUTES[@]}"; do
        f=$TMP/mix-$route.out
        if ! grep -q '^load_route' "$f" 2>/dev/null; then
            echo "| $route | ${CONNECTIONS[$route]} | no result | | | | wrk failed |"
            missing=1
            continue
        fi
        requests=$(field "$f" load_route requests)
        rps=$(field "$f" load_route rps)
        errors=$(field "$f" load_route errors)
        printf '| %s | %s | %s | %.0f | %s | %s | %s |\n' "$route" "${CONNECTIONS[$route]}" "$requests" "$rps" \
            "$(field "$f" load_route p50_ms)" "$(field "$f" load_route p99_ms)" "$errors"
        total_requests=$((total_requests + requests))
        total_rps=$(awk -v a="$total_rps" -v b="$rps" 'BEGIN { print a + b }')
        total_errors=$((total_errors + errors))
    done
    total_connections=0
    for route in "${ROUTES[@]}"; do total_connections=$((total_connections + CONNECTIONS[$route])); done
    printf '| **all** | %s | %s | %.0f | | | %s |\n' "$total_connections" "$total_requests" "$total_rps" "$total_errors"
    echo

    echo "| check | measured | result |"
    echo "|---|---|---|"
    check "errors in the mix (answers outside 2xx/3xx, socket errors, timeouts over 10 s)" \
        "$total_errors (warm-up: $WARMUP_ERRORS)$( ((missing == 0)) || echo ', a wrk run gave no result')" \
        "$((total_errors == 0 && WARMUP_ERRORS == 0 && missing == 0 && MIX_OK == 1))"
    growth=$(awk -v a="$RSS_BEFORE" -v b="$RSS_AFTER" 'BEGIN { printf "%+.1f", 100 * (b - a) / a }')
    check "server RSS after the warm-up -> after the run (limit +$RSS_LIMIT_PCT%)" \
        "$(mib "$RSS_BEFORE") -> $(mib "$RSS_AFTER") MiB (${growth}%; peak $(mib "$RSS_PEAK") MiB sampled, VmHWM $(mib "$HWM") MiB)" \
        "$(awk -v a="$RSS_BEFORE" -v b="$RSS_AFTER" -v l="$RSS_LIMIT_PCT" 'BEGIN { print (b <= a * (1 + l / 100)) ? 1 : 0 }')"
    check "server open fds after the warm-up -> after the run" \
        "$FDS_BEFORE -> $FDS_AFTER (with the idle and slow clients $FDS_IDLE, peak $FDS_PEAK)" "$((FDS_AFTER <= FDS_BEFORE))"
    idle_held=$(field "$TMP/run-idle.out" idle_clients held)
    check "idle keep-alive connections held for the whole run" \
        "${idle_held:-?} of $IDLE ($(field "$TMP/run-idle.out" idle_clients requests) requests, $(field "$TMP/run-idle.out" idle_clients closed_by_server) closed by the server, $(field "$TMP/run-idle.out" idle_clients bad_status) not 200, $(field "$TMP/run-idle.out" idle_clients seconds) s)" \
        "$(( ${idle_held:-0} == IDLE ))"
    slow_closed=$(field "$TMP/run-slow.out" slowloris closed_by_server)
    slow_overdue=$(field "$TMP/run-slow.out" slowloris overdue)
    slow_max=$(field "$TMP/run-slow.out" slowloris age_max)
    check "slow clients closed by the server at its ${REQUEST_TIMEOUT} s timeout" \
        "${slow_closed:-?} closed at $(field "$TMP/run-slow.out" slowloris age_min)-${slow_max:-?} s of age, ${slow_overdue:-?} open past $((REQUEST_TIMEOUT + 5)) s, $(field "$TMP/run-slow.out" slowloris still_open) younger ones open at the end" \
        "$(awk -v c="${slow_closed:-0}" -v n="$SLOW" -v o="${slow_overdue:-1}" -v m="${slow_max:-999}" -v t="$REQUEST_TIMEOUT" \
            'BEGIN { print (c >= n && o == 0 && m <= t + 5) ? 1 : 0 }')"
    check "server after the run: alive, /readyz, 5xx answers in /metrics" \
        "/readyz $READY, $SERVER_5XX 5xx" "$( (kill -0 "$SERVER_PID" 2>/dev/null && [[ $READY == 200 && $SERVER_5XX == 0 ]]) && echo 1 || echo 0)"
} | tee "$TMP/table.md"

grep -q '| FAIL |' "$TMP/table.md" && FAILED=1
for route in "${ROUTES[@]}"; do
    if [[ -s $TMP/mix-$route.err ]]; then log "wrk $route said: $(head -c 600 "$TMP/mix-$route.err")"; fi
done
if ((FAILED)); then
    log "FAILED: see the table above and $TMP"
    exit 1
fi
log "all checks passed"
