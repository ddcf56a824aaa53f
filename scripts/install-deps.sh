#!/usr/bin/env bash
# Installs every Debian package Forge needs to build, test, check and benchmark. Idempotent: it
# asks apt only for what is missing, so a second run is a no-op. Works as root or via sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git python3
  liburing-dev libxxhash-dev xxhash libssl-dev liblmdb-dev lmdb-utils
  libspdlog-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  libzstd-dev libcurl4-openssl-dev libboost-dev libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  curl ccache bazel-bootstrap zstd jq
  clang-format clang-tidy-16
  dpkg-dev lintian
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
