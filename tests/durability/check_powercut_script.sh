#!/usr/bin/env bash
# scripts/powercut.sh as an operator runs it, on the SQLite cases (PostgreSQL killed is
# pg_kill_e2e_test's, in the suite already): it must pass and print every case's figures.
#   check_powercut_script.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
status=0
out=$(bash "$1/scripts/powercut.sh" --build "$2" --no-postgresql 2>&1) || status=$?
printf '%s\n' "$out"
((status == 0)) || { echo "check_powercut_script: powercut.sh exited $status" >&2; exit 1; }
for case in 'report intake: ' 'control (synchronous=off): ' 'control (synchronous=normal): ' 'rebalance apply (' \
    'import of 400 buildings (' 'disk full: '; do
    grep -qF "powercut: $case" <<<"$out" || { echo "check_powercut_script: no figures for '$case'" >&2; exit 1; }
done
grep -qE '^powercut: report intake: .*, 0 lost;' <<<"$out" ||
    { echo "check_powercut_script: the intake line does not say 0 lost" >&2; exit 1; }
