#!/usr/bin/env bash
# Side-by-side hashing benchmark on make_tree.py trees (warm page cache, then one cold pass).
#   benchmarks/hash_compare.sh [FILES...]      default: 10000 100000
# Needs a built default preset (build/default). Prints one table per tree: median wall time
# of 5 runs, files/s, MB/s, ratio to the best peer, and peak RSS. Peers missing from the
# machine (b3sum) are skipped. Cold runs need root (drop_caches).
set -euo pipefail
cd "$(dirname "$0")/.."
forge=$PWD/build/default/cli/forge
reader=$PWD/build/default/benchmarks/forge_minimal_reader
runs=${RUNS:-5}
sizes=("${@:-10000 100000}")
sizes=(${sizes[@]})

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# time_cmd NAME CMD: runs CMD $runs times, prints "NAME median_s peak_rss_kib"
time_cmd() {
  local name=$1; shift
  local times=() rss=0
  for _ in $(seq "$runs"); do
    local out
    /usr/bin/time -o /tmp/forge-bench-time -f "%e %M" bash -c "$*" >/dev/null 2>&1 || true
    out=$(tail -1 /tmp/forge-bench-time)
    times+=("${out% *}")
    local r=${out#* }
    (( r > rss )) && rss=$r
  done
  printf '%s %s %s\n' "$name" "$(printf '%s\n' "${times[@]}" | median)" "$rss"
}

for n in "${sizes[@]}"; do
  tree=/tmp/forge-bench-tree-$n
  [ -d "$tree" ] || python3 benchmarks/make_tree.py --files "$n" --seed 42 --out "$tree" >/dev/null
  list=/tmp/forge-bench-list-$n
  (cd "$tree" && find . -type f -print0) > "$list"
  bytes=$(cd "$tree" && find . -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  files=$(tr -cd '\0' < "$list" | wc -c)
  echo "== tree: $n files, $((bytes / 1024 / 1024)) MiB ($tree), warm cache, median of $runs"
  cat "$list" | (cd "$tree" && xargs -0 cat) > /dev/null  # warm the page cache
  results=$(
    cd "$tree"
    time_cmd "forge-uring-sha256" "$forge hash --backend uring --algo sha256 - < $list"
    time_cmd "forge-fallback-sha256" "$forge hash --backend fallback --algo sha256 - < $list"
    time_cmd "forge-uring-xxh3" "$forge hash --backend uring --algo xxh3 - < $list"
    time_cmd "forge-fallback-xxh3" "$forge hash --backend fallback --algo xxh3 - < $list"
    time_cmd "xargs-P2-sha256sum" "xargs -0 -P2 -n 500 sha256sum < $list"
    command -v b3sum >/dev/null && time_cmd "b3sum" "xargs -0 -n 2000 b3sum < $list"
    time_cmd "xxhsum-H2" "xargs -0 -P2 -n 500 xxhsum -H2 < $list"
    time_cmd "git-hash-object" "tr '\\0' '\\n' < $list | git hash-object --stdin-paths"
    time_cmd "cat-devnull" "xargs -0 cat < $list"
    time_cmd "minimal-reader" "$reader < $list"
  )
  best_peer=$(echo "$results" | grep -v '^forge' | grep -v minimal | grep -v cat- | awk '{print $2}' | sort -n | head -1)
  floor=$(echo "$results" | awk '$1=="minimal-reader"{print $2}')
  printf '%-24s %9s %11s %9s %10s %10s %9s\n' tool seconds files/s MB/s vs-best vs-reader rss-MiB
  echo "$results" | while read -r name secs rss; do
    awk -v n="$name" -v s="$secs" -v f="$files" -v b="$bytes" -v best="$best_peer" -v fl="$floor" -v r="$rss" \
      'BEGIN { s = (s < 0.001) ? 0.001 : s;
               printf "%-24s %9.3f %11.0f %9.1f %9.2fx %9.2fx %9.1f\n", n, s, f/s, b/s/1e6, s/best, s/fl, r/1024 }'
  done
  if [ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/drop_caches ]; then
    echo "-- cold cache (one run each, caches dropped before each)"
    for cmd in "forge-uring-sha256|$forge hash --backend uring --algo sha256 - < $list" \
               "forge-fallback-sha256|$forge hash --backend fallback --algo sha256 - < $list" \
               "xargs-P2-sha256sum|xargs -0 -P2 -n 500 sha256sum < $list" \
               "minimal-reader|$reader < $list"; do
      name=${cmd%%|*}; c=${cmd#*|}
      sync; echo 3 > /proc/sys/vm/drop_caches
      (cd "$tree" && /usr/bin/time -o /tmp/forge-bench-time -f "%e" bash -c "$c" >/dev/null 2>&1 || true)
      s=$(tail -1 /tmp/forge-bench-time)
      printf '%-24s %9s s\n' "$name" "$s"
    done
  fi
done
