#!/usr/bin/env bash
# Runs one command (normally `ctest --preset windows`) with a fresh, private wine prefix, so
# Windows test binaries can run here: WINEPREFIX is a temp dir made for this run and deleted
# after it, WINEDEBUG=-all keeps wine's diagnostics out of test output.
# The wineserver is started persistent (-p) and the prefix is created by one priming process
# before the command: ctest run against a prefix still being created can hang. The first start
# creates the prefix (~20 s here); every later process reuses it.
#   scripts/with-wine.sh ctest --preset windows
set -euo pipefail
wine=/usr/lib/wine/wine64
wineserver=/usr/lib/wine/wineserver
if [ ! -x "$wine" ]; then
  echo "with-wine: $wine is missing: run scripts/install-deps.sh (wine wine64)" >&2
  exit 1
fi
WINEPREFIX="$(mktemp -d "${TMPDIR:-/tmp}/forge-wine.XXXXXX")"
export WINEPREFIX WINEDEBUG=-all
cleanup() {
  "$wineserver" -k >/dev/null 2>&1 || true
  rm -rf "$WINEPREFIX"
}
trap cleanup EXIT
"$wineserver" -p
start=$(date +%s)
"$wine" cmd /c exit 0 </dev/null >/dev/null 2>&1
echo "with-wine: prefix $WINEPREFIX ready in $(($(date +%s) - start)) s" >&2
"$@"
