#!/usr/bin/env bash
# A private PostgreSQL + PostGIS cluster for tests (docs/POSTGRESQL.md): initdb in DIR, listening
# on 127.0.0.1 only at a free port, trust authentication on loopback, fsync on.
#
#   scripts/pg-cluster.sh start DIR   prints the cluster's URL: postgresql://postgres@127.0.0.1:PORT/postgres
#   scripts/pg-cluster.sh stop DIR    stops it (fast shutdown); DIR can then be removed
#   scripts/pg-cluster.sh restart DIR stops it (fast shutdown) and starts it again on the same port
#   scripts/pg-cluster.sh url DIR     prints the URL of a running cluster
#
# As root the cluster runs as the postgres user (initdb refuses root), which then owns DIR.
set -euo pipefail

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
die() { echo "pg-cluster: $*" >&2; exit 1; }
[[ $# -eq 2 ]] || die "usage: pg-cluster.sh start|stop|restart|url DIR"
action=$1
dir=$(realpath -m "$2")
[[ -x $PG_BIN/initdb ]] || die "PostgreSQL's server binaries are missing (scripts/install-deps.sh installs them)"

as_owner() {
    if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # free_port

url() { echo "postgresql://postgres@127.0.0.1:$(cat "$dir/port")/postgres"; }

case $action in
start)
    if [[ -f $dir/data/postmaster.pid ]]; then
        # Running: its URL. Left by a postmaster that was killed (kill -9, a crash): cleared, and
        # the cluster started again (it recovers from its WAL).
        # (A killed one nobody has reaped yet is a zombie: it answers kill -0, but does not run.)
        pid=$(head -1 "$dir/data/postmaster.pid")
        state=$(sed -E 's/.*\) ([A-Z]).*/\1/' "/proc/$pid/stat" 2>/dev/null || true)
        if [[ $pid =~ ^[0-9]+$ && -n $state && $state != Z ]]; then url; exit 0; fi
        port=$(sed -n 4p "$dir/data/postmaster.pid")
        rm -f "$dir/data/postmaster.pid" "$dir/.s.PGSQL.$port.lock"
    fi
    mkdir -p "$dir"
    [[ $EUID -ne 0 ]] || chown postgres: "$dir"
    if [[ ! -f $dir/data/PG_VERSION ]]; then
        as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
            die "initdb failed, see $dir/initdb.log"
    fi
    # A cluster started before comes back on its port, so that clients reconnect to it.
    if [[ -f $dir/port ]]; then port=$(cat "$dir/port"); else port=$(free_port); fi
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c max_connections=200" \
        start >/dev/null || die "PostgreSQL did not start, see $dir/server.log"
    echo "$port" | as_owner tee "$dir/port" >/dev/null
    url
    ;;
stop)
    [[ -f $dir/data/postmaster.pid ]] || exit 0
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    ;;
restart)
    [[ -f $dir/data/postmaster.pid ]] || die "no cluster runs in $dir"
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    exec bash "$0" start "$dir"
    ;;
url)
    [[ -f $dir/data/postmaster.pid ]] || die "no cluster runs in $dir"
    url
    ;;
*) die "unknown action '$action': start, stop, restart or url" ;;
esac
