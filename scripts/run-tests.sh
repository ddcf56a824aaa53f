#!/usr/bin/env bash
# Installs dependencies, builds and runs every test: the `default` preset (RelWithDebInfo)
# and the `asan` preset (ASan + UBSan). Set FORGE_PRESETS="default" to run only one.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
for preset in ${FORGE_PRESETS:-default asan}; do
  echo "=== preset: $preset ==="
  cmake --preset "$preset"
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs"
done
