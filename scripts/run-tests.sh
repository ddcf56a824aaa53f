#!/usr/bin/env bash
# Builds and runs the tests; installs nothing (scripts/install-deps.sh does that).
#   default  RelWithDebInfo: every test
#   asan     Debug, ASan + UBSan: every test
#   tsan     Debug, TSan: the unit tests only (ctest label `unit`; only their targets are built)
# FORGE_PRESETS="default" (any subset, space separated) runs fewer presets.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
for preset in ${FORGE_PRESETS:-default asan tsan}; do
  echo "=== preset: $preset ==="
  cmake --preset "$preset"
  if [ "$preset" = tsan ]; then
    cmake --build --preset "$preset" -j "$jobs" --target forge_unit_tests
    ctest --preset "$preset" -j "$jobs" -L '^unit$'
  else
    cmake --build --preset "$preset" -j "$jobs"
    ctest --preset "$preset" -j "$jobs"
  fi
done
