#!/usr/bin/env bash
# Builds and runs the tests; installs nothing (scripts/install-deps.sh does that).
#   default  RelWithDebInfo: every test
#   asan     Debug, ASan + UBSan: every test
#   tsan     Debug, TSan: the unit tests of the layers with threads of their own (core and the
#            store: target forge_tsan_tests, which builds without the CLI and gRPC);
#            FORGE_TSAN_ALL=1 builds and runs every `unit` executable instead.
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
for preset in ${FORGE_PRESETS:-windows default asan tsan}; do
  echo "=== preset: $preset ==="
  # LMDB and zstd for Windows, from Debian's source packages (cached in build/windows-deps).
  if [ "$preset" = windows ]; then scripts/build-windows-deps.sh; fi
  cmake --preset "$preset"
  if [ "$preset" = windows ]; then
    # mingw-w64 cross build; the tests run under wine in a private, temporary prefix.
    cmake --build --preset "$preset" -j "$jobs"
    scripts/with-wine.sh ctest --preset "$preset" -j "$jobs"
  elif [ "$preset" = tsan ]; then
    # Only the executables built are run: the others are placeholders without the label.
    target=forge_tsan_tests
    if [ "${FORGE_TSAN_ALL:-0}" = 1 ]; then target=forge_unit_tests; fi
    cmake --build --preset "$preset" -j "$jobs" --target "$target"
    ctest --preset "$preset" -j "$jobs" -L '^unit$'
  else
    cmake --build --preset "$preset" -j "$jobs"
    ctest --preset "$preset" -j "$jobs"
  fi
done
