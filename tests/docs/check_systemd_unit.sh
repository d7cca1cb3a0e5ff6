#!/usr/bin/env bash
# Checks of the systemd units in docs/ (docs/OPERATIONS.md, "Run"):
#   - `systemd-analyze verify` accepts wangge.service, wangge-backup.service and
#     wangge-backup.timer without a word (it exits 0 on unknown keys and bad values, only
#     printing them, so any output fails);
#   - every option of wangge.service's ExecStart is one `wangge serve --help` lists, and the
#     whole command line parses: run with the database swapped for a missing file, it gets as
#     far as opening it;
#   - LimitNOFILE leaves the server room for --max-connections (it keeps 64 descriptors spare).
# systemd-analyze is required, not optional: Debian's package `systemd` (apt-get install
# --no-install-recommends systemd). Without it this check fails rather than skips.
# Usage: check_systemd_unit.sh REPOSITORY_ROOT WANGGE_BINARY
set -euo pipefail
root=$1
wangge=$2
failures=0
fail() {
    echo "FAILED: $*"
    failures=$((failures + 1))
}

if ! command -v systemd-analyze > /dev/null; then
    echo "FAILED: systemd-analyze is missing: install Debian's systemd package" \
        "(apt-get install --no-install-recommends systemd); this check does not skip"
    exit 1
fi
[[ -x $wangge ]] || { echo "FAILED: $wangge is not an executable (build the wangge target)"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The units name the installed binary; verify checks that ExecStart's program exists, so they are
# verified with the built binary in its place, and nothing else changed.
units=(wangge.service wangge-backup.service wangge-backup.timer)
for unit in "${units[@]}"; do
    sed "s|/opt/wangge/bin/wangge|$wangge|g" "$root/docs/$unit" > "$work/$unit"
done
if ! out=$(cd "$work" && systemd-analyze verify "${units[@]/#/$work/}" 2>&1); then
    fail "systemd-analyze verify exits non-zero"
fi
if [[ -n $out ]]; then
    fail "systemd-analyze verify has something to say:"
    echo "$out"
fi

# ExecStart of wangge.service, its continuation lines joined.
exec_start=$(awk '/^ExecStart=/ { on = 1 } on { line = line " " $0; if ($0 !~ /\\$/) { print line; exit } }' \
    "$root/docs/wangge.service" | sed 's/\\//g; s/^ *ExecStart=//')
read -r -a argv <<< "$exec_start"
[[ ${argv[0]} == /opt/wangge/bin/wangge && ${argv[1]} == serve ]] ||
    fail "ExecStart runs ${argv[0]} ${argv[1]}, not /opt/wangge/bin/wangge serve"

help=$("$wangge" serve --help)
options=0
for arg in "${argv[@]:2}"; do
    [[ $arg == --* ]] || continue
    option=${arg%%=*}
    options=$((options + 1))
    grep -Eq -- "(^|[ ,])${option}([ =]|$)" <<< "$help" || fail "ExecStart's $option is not an option of wangge serve --help"
done
((options >= 5)) || fail "found only $options options in ExecStart: is it parsed right?"

# The whole command line parses: with --db a missing file, serve stops at opening it (exit 1,
# "does not exist"), past every option's parsing and checks that come first (--public-url).
run=("$wangge")
for ((i = 1; i < ${#argv[@]}; i++)); do
    if [[ ${argv[i]} == --db ]]; then
        run+=(--db "$work/missing.sqlite")
        i=$((i + 1))
    else
        run+=("${argv[i]}")
    fi
done
set +e
parsed=$(timeout 30 "${run[@]}" 2>&1)
code=$?
set -e
if [[ $code -ne 1 || $parsed != *"does not exist"* ]]; then
    fail "ExecStart's command line does not get as far as opening the database (exit $code):"
    echo "$parsed"
fi

# Descriptors for every connection.
limit=$(sed -n 's/^LimitNOFILE=//p' "$root/docs/wangge.service")
connections=1024
for ((i = 2; i < ${#argv[@]}; i++)); do
    [[ ${argv[i]} == --max-connections ]] && connections=${argv[i + 1]}
done
[[ $limit =~ ^[0-9]+$ ]] || fail "LimitNOFILE=$limit is not a number"
((limit >= connections + 64)) || fail "LimitNOFILE=$limit leaves no room for --max-connections $connections (+64)"

if ((failures)); then
    echo "$failures problem(s) in the systemd units"
    exit 1
fi
echo "systemd units: verified by systemd-analyze; ${options} options of ExecStart known to wangge serve and parsed; LimitNOFILE=$limit for $connections connections"
