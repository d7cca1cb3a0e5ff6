#!/usr/bin/env bash
# Installs Wangge's build and runtime dependencies from Debian 12's packages, once.
# docs/DEPENDENCIES.md says why each one is here.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev                                # Boost.Beast and Asio (HTTP server)
  libgdal-dev gdal-bin                        # import of any vector format; ogrinfo in tests
  libgeos-dev                                 # geometry (C API)
  libproj-dev proj-data                       # geodesic measures; CRS transforms through GDAL
  libsqlite3-dev sqlite3 libspatialite-dev libsqlite3-mod-spatialite  # the SpatiaLite store
  libsodium-dev                               # Argon2id passwords, random tokens, constant-time compares
  catch2                                      # unit and integration tests
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libprotozero-dev zlib1g-dev                 # vector tiles (MVT) and their gzip encoding
  prometheus-cpp-dev                          # GET /metrics in the Prometheus text format
  libmapnik-dev mapnik-utils fonts-noto-cjk   # rendered tiles with Chinese labels
  libpq-dev postgresql postgresql-15-postgis-3  # the PostgreSQL/PostGIS store; a private cluster in tests
  haproxy                                     # the load balancer of the many-servers test (tests/cluster)
  chromium                                    # the web map's end-to-end test (driven by playwright-core)
  nodejs                                      # npm for MapLibre GL JS and playwright-core
  curl
  clang libclang-rt-14-dev                    # the sanitizer builds (ASan, UBSan, TSan) and libFuzzer
  wrk python3                                 # scripts/load.sh: the request mix, idle and slow clients
  systemd                                     # systemd-analyze verifies docs/wangge.service in tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
