#!/usr/bin/env bash
# Builds and runs the tests; installs nothing (scripts/install-deps.sh does that).
#   default  RelWithDebInfo: every test
#   asan     Debug, ASan + UBSan: every test
#   tsan     Debug, TSan: the unit tests only (ctest label `unit`; only their targets are built).
#            Not in the default list yet: FORGE_PRESETS="default asan tsan" runs it.
#   windows  mingw-w64 cross build of the ported core (docs/windows.md); tests under wine.
#            First in the list: about 3 minutes on two idle cores, and a broken port fails fast.
# FORGE_PRESETS="default" (any subset, space separated) runs fewer presets.
# When ccache is installed (scripts/install-deps.sh installs it) every compile goes through it,
# with paths taken relative to the checkout, so a second run of any clone is mostly cache hits.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
if command -v ccache >/dev/null 2>&1; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
fi
for preset in ${FORGE_PRESETS:-windows default asan}; do
  echo "=== preset: $preset ==="
  # LMDB and zstd for Windows, from Debian's source packages (cached in build/windows-deps).
  if [ "$preset" = windows ]; then scripts/build-windows-deps.sh; fi
  cmake --preset "$preset"
  if [ "$preset" = windows ]; then
    # mingw-w64 cross build; the tests run under wine in a private, temporary prefix.
    cmake --build --preset "$preset" -j "$jobs"
    scripts/with-wine.sh ctest --preset "$preset" -j "$jobs"
  elif [ "$preset" = tsan ]; then
    cmake --build --preset "$preset" -j "$jobs" --target forge_unit_tests
    ctest --preset "$preset" -j "$jobs" -L '^unit$'
  else
    cmake --build --preset "$preset" -j "$jobs"
    ctest --preset "$preset" -j "$jobs"
  fi
done
