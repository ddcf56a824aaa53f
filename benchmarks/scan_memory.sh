#!/usr/bin/env bash
# First-scan peak RSS and wall time against `forge hash --algo xxh3` over the same files
# (issue 16: peak RSS <= 64 MB at 100k files, wall within 1.2x of hashing):
#   - a make_tree.py tree of 100k files (--seed 42, 1.28 GB), empty index each run;
#   - 200k small files in ONE directory (--per-dir 200000 --median-kib 1, 0.63 GB).
# Warm page cache; median of $RUNS runs (default 5) of `/usr/bin/time -f "%e %M"`.
#   benchmarks/scan_memory.sh [FORGE]       FORGE: default build/default/cli/forge
set -euo pipefail
cd "$(dirname "$0")/.."
forge=${1:-$PWD/build/default/cli/forge}
runs=${RUNS:-5}
. benchmarks/lib.sh

# measure CMD...: prints "<median wall s> <median peak RSS MB>" over $runs runs; $setup runs
# (untimed) before each.
measure() {
  local walls=() rss=() out
  for _ in $(seq "$runs"); do
    bash -c "$setup" >/dev/null 2>&1
    /usr/bin/time -o /tmp/forge-scan-memory-time -f "%e %M" "$@" >/dev/null 2>&1 || true
    out=$(tail -n 1 /tmp/forge-scan-memory-time)
    walls+=("${out% *}")
    rss+=("$(awk -v kb="${out#* }" 'BEGIN {printf "%.1f", kb / 1024}')")
  done
  echo "$(printf '%s\n' "${walls[@]}" | median) $(printf '%s\n' "${rss[@]}" | median)"
}

row() {  # row NAME TREE
  local name=$1 tree=$2 index=/tmp/forge-scan-memory-index scan hash
  (cd "$tree" && find . -type f -print0 | xargs -0 cat >/dev/null)  # warm the page cache
  setup="rm -rf $index"
  scan=$(measure "$forge" scan --index-dir "$index" "$tree")
  setup="true"
  hash=$(measure "$forge" hash --algo xxh3 "$tree")
  rm -rf "$index"
  printf '%-24s %9s %9s %10s %10s %7s\n' "$name" "${scan% *}" "${scan#* }" "${hash% *}" \
    "${hash#* }" "$(ratio "${scan% *}" "${hash% *}")"
}

tree100k=${TREE_100K:-/tmp/forge-scan-tree-100000}  # an existing copy may be named
[ -d "$tree100k" ] ||
  python3 benchmarks/make_tree.py --files 100000 --seed 42 --out "$tree100k" >/dev/null
onedir=${TREE_ONEDIR:-/tmp/forge-scan-onedir-200000}
[ -d "$onedir" ] || python3 benchmarks/make_tree.py --files 200000 --per-dir 200000 \
  --median-kib 1 --seed 42 --out "$onedir" >/dev/null

echo "first scan (empty index) vs forge hash --algo xxh3, median of $runs, warm cache"
printf '%-24s %9s %9s %10s %10s %7s\n' tree "scan s" "scan MB" "hash s" "hash MB" "ratio"
row "100k files" "$tree100k"
row "200k files in one dir" "$onedir"
