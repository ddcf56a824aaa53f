#!/usr/bin/env bash
# Installs every Debian package Forge needs to build, test, check and benchmark, and turbo
# from npm (the one client the tests drive that Debian does not package). Idempotent: it
# asks apt only for what is missing, so a second run is a no-op. Works as root or via sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git python3
  liburing-dev libxxhash-dev xxhash libssl-dev liblmdb-dev lmdb-utils
  libspdlog-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  libzstd-dev libcurl4-openssl-dev libboost-dev libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  curl ccache bazel-bootstrap zstd jq
  ceph-mon ceph-osd radosgw ceph-common nginx libnginx-mod-http-dav-ext
  clang-format clang-tidy-16
  dpkg-dev lintian mmdebstrap
  prometheus gradle
  g++-mingw-w64-x86-64-posix
)
# wine runs the Windows tests; installed with its recommended packages, as it was tested.
with_recommends=(wine wine64)

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
# Debian's source packages: scripts/build-windows-deps.sh builds LMDB and zstd for Windows
# from them (`apt-get source`), which needs deb-src lists; a fresh Debian 12 has none.
deb_src=/etc/apt/sources.list.d/forge-deb-src.sources
need_update=false
if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "install-deps: adding $deb_src (Debian 12 source packages)" >&2
  printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" \
    "Suites: bookworm bookworm-updates" "Components: main" \
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" | $sudo tee "$deb_src" >/dev/null
  need_update=true
fi
if [ -z "$(apt-cache showsrc lmdb 2>/dev/null | head -1)" ]; then need_update=true; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm (for turbo below) only where no Node.js with npm is installed already.
command -v npm >/dev/null 2>&1 || missing+=(npm)
missing_with_recommends=()
for p in "${with_recommends[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing_with_recommends+=("$p")
done
export DEBIAN_FRONTEND=noninteractive
if ((${#missing[@]} + ${#missing_with_recommends[@]} > 0)) || $need_update; then
  $sudo apt-get update -qq
fi
if ((${#missing[@]} + ${#missing_with_recommends[@]} > 0)); then
  echo "install-deps: installing ${missing[*]} ${missing_with_recommends[*]}" >&2
  if ((${#missing[@]} > 0)); then
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
  if ((${#missing_with_recommends[@]} > 0)); then
    $sudo apt-get install -y -qq "${missing_with_recommends[@]}" >&2
  fi
fi

# Turborepo's CLI from npm (the package ships its binary), for the turbo integration test.
turbo_version=2.11.11
if [ "$(turbo --version 2>/dev/null)" != "$turbo_version" ]; then
  echo "install-deps: installing turbo@$turbo_version from npm" >&2
  $sudo npm install -g --no-audit --no-fund "turbo@$turbo_version" >&2
fi
