#!/usr/bin/env bash
# scripts/powercut.sh as an operator runs it, on the SQLite cases (PostgreSQL killed is
# pg_kill_e2e_test's, in the suite already): it must pass and print every case's figures.
#   check_powercut_script.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
out=$(bash "$1/scripts/powercut.sh" --build "$2" --no-postgresql)
printf '%s\n' "$out"
for case in 'report intake: ' 'control (synchronous=off): ' 'control (synchronous=normal): ' 'rebalance apply (' \
    'import of 400 buildings (' 'disk full: '; do
    grep -qF "powercut: $case" <<<"$out" || { echo "check_powercut_script: no figures for '$case'" >&2; exit 1; }
done
grep -q '0 lost' <<<"$out" || { echo "check_powercut_script: the intake line does not say 0 lost" >&2; exit 1; }
