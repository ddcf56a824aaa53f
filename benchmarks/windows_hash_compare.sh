#!/usr/bin/env bash
# `forge hash` of the Windows build (forge.exe, preset `windows`) under wine: the IOCP backend
# against the portable fallback (synchronous ReadFile on a thread pool) on a make_tree.py
# tree, warm page cache.
#   benchmarks/windows_hash_compare.sh [FILES]      default 10000; RUNS=5 (at least 5);
#   ALGOS="sha256 xxh3" (default sha256) times `--algo` of each
# Needs a built windows preset (build/windows/forge.exe) and wine (scripts/install-deps.sh);
# it runs itself inside scripts/with-wine.sh's private prefix. Prints the median wall and
# CPU (user + sys of the wine process; wineserver's time is not in it) seconds of RUNS
# interleaved runs of each command, and the ratios fallback / IOCP.
# WINE IS NOT WINDOWS: wine turns every overlapped ReadFile into a request to its own
# threads and answers file calls through wineserver, so these figures say how the two
# backends compare under wine on this machine, not what they do on NTFS; only the ratios
# are worth quoting. The machine is shared: run it twice before believing a difference
# under ~10%.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${FORGE_BENCH_IN_WINE:-}" ]; then
  FORGE_BENCH_IN_WINE=1 exec scripts/with-wine.sh "$0" "$@"
fi
. benchmarks/lib.sh
wine=/usr/lib/wine/wine64
forge_exe=${FORGE_EXE:-$PWD/build/windows/forge.exe}
runs=${RUNS:-5}
(( runs >= 5 )) || runs=5
files=${1:-10000}
read -r -a algos <<< "${ALGOS:-sha256}"
[ -f "$forge_exe" ] || { echo "windows_hash_compare: $forge_exe is missing: build the windows preset" >&2; exit 2; }

tree=/tmp/forge-bench-tree-$files  # the tree hash_compare.sh uses (seed 42)
bench_tree "$tree" "$files" 42
bytes=$(cd "$tree" && find . -type f -printf '%s\n' | awk '{s += $1} END {print s}')
cd "$tree"
# The backends must agree before they are timed, and `auto` must be IOCP here.
auto=$("$wine" "$forge_exe" doctor --json . 2>/dev/null | jq -r .io_backend)
[ "$auto" = iocp ] || { echo "windows_hash_compare: auto is '$auto', not iocp" >&2; exit 1; }
"$wine" "$forge_exe" hash --backend auto . 2>/dev/null | sort > /tmp/forge-win-iocp.$$
"$wine" "$forge_exe" hash --backend fallback . 2>/dev/null | sort > /tmp/forge-win-fallback.$$
if ! cmp -s /tmp/forge-win-iocp.$$ /tmp/forge-win-fallback.$$ ||
   [ "$(wc -l < /tmp/forge-win-iocp.$$)" -ne "$files" ]; then
  echo "windows_hash_compare: the backends disagree or missed files" >&2
  rm -f /tmp/forge-win-iocp.$$ /tmp/forge-win-fallback.$$
  exit 1
fi
rm -f /tmp/forge-win-iocp.$$ /tmp/forge-win-fallback.$$

echo "== wine $("$wine" --version), forge.exe hash on $files files, $((bytes / 1024 / 1024)) MiB ($tree), warm cache, median of $runs"
echo "   (wine is not Windows: compare the ratios, not the seconds)"
commands=()
for algo in "${algos[@]}"; do
  commands+=("iocp-$algo" "'$wine' '$forge_exe' hash --backend auto --algo $algo ."
             "fallback-$algo" "'$wine' '$forge_exe' hash --backend fallback --algo $algo .")
done
results=$(measure "${commands[@]}" "startup" "'$wine' '$forge_exe' --version")
printf '%-18s %10s %10s\n' command wall_s cpu_s
while read -r name wall cpu; do printf '%-18s %10s %10s\n' "$name" "$wall" "$cpu"; done <<< "$results"
get() { awk -v n="$1" -v f="$2" '$1 == n {print $f}' <<< "$results"; }
startup=$(get startup 2)
for algo in "${algos[@]}"; do
  iocp=$(get "iocp-$algo" 2)
  fallback=$(get "fallback-$algo" 2)
  net_iocp=$(awk -v a="$iocp" -v s="$startup" 'BEGIN {print a - s}')
  net_fallback=$(awk -v a="$fallback" -v s="$startup" 'BEGIN {print a - s}')
  echo "$algo: fallback / iocp wall $(ratio "$fallback" "$iocp")," \
       "without wine's start-up $(ratio "$net_fallback" "$net_iocp")," \
       "cpu $(ratio "$(get "fallback-$algo" 3)" "$(get "iocp-$algo" 3)")"
done
