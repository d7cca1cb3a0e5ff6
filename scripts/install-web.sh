#!/usr/bin/env bash
# Installs the web map's npm packages (MapLibre GL JS, served by Wangge from web/node_modules;
# playwright-core for the browser test) exactly as web/package-lock.json pins them, with `npm ci`.
# Idempotent and fast: nothing is done while web/node_modules matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

web=web
stamp="$web/node_modules/.wangge-lock.sha256"

for tool in node npm sha256sum; do
  command -v "$tool" >/dev/null || { echo "install-web: $tool is missing (scripts/install-deps.sh installs Node.js)" >&2; exit 1; }
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "install-web: Node.js 20 or newer is needed (found $(node --version))" >&2
  exit 1
fi

want=$(sha256sum "$web/package-lock.json" "$web/package.json" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   [ -f "$web/node_modules/maplibre-gl/dist/maplibre-gl.mjs" ] &&
   [ -f "$web/node_modules/playwright-core/index.mjs" ]; then
  exit 0
fi

echo "installing the web map's npm packages into $web/node_modules"
npm ci --prefix "$web" --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
