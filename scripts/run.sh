#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and serves the demo district:
# installs dependencies, builds Wangge (release), creates var/demo.sqlite if missing, and serves
# it on http://127.0.0.1:8080 (override with PORT=... or HOST=...).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/install-web.sh
cmake --preset release >/dev/null
cmake --build --preset release --target wangge

db=var/demo.sqlite
if [ ! -f "$db" ]; then
  mkdir -p var
  echo "creating the demo district in $db"
  build/release/src/app/wangge demo "$db"
fi
exec build/release/src/app/wangge serve --db "$db" --host "${HOST:-127.0.0.1}" --port "${PORT:-8080}"
