#!/usr/bin/env bash
# Hashing against its floors and its peers, in one run, on make_tree.py trees (warm page
# cache; one cold pass with COLD=1 as root).
#   benchmarks/hash_compare.sh [FILES...]      default: 10000 100000; RUNS=5 (at least 5)
# Needs a built default preset (build/default). Per tree it prints the median wall and
# median CPU (user + sys) seconds of RUNS interleaved runs of each command, and the ratios
# that issue 20 tracks:
#   floor       the minimal C reader (open, read to EOF, close; nothing else) on 2 processes,
#               each given every other path of the list
#   sha-floor   floor + bytes / (2 x OpenSSL's SHA-256 speed at 16 KiB blocks)
#   forge xxh3 / floor, forge sha256 / sha-floor, forge hash DIR / forge hash - (same files),
#   and every command against the best SHA-256 peer (sha256sum or `openssl dgst` under
#   xargs -P2); xxhsum -H2 and b3sum (when installed) are listed beside them.
# The machine is shared: quote medians, compare CPU seconds when wall times are noisy, and
# run it twice before believing a difference under ~10%.
set -euo pipefail
cd "$(dirname "$0")/.."
. benchmarks/lib.sh
forge=${FORGE:-$PWD/build/default/cli/forge}  # FORGE=/path/to/forge: compare another build
reader=$PWD/build/default/benchmarks/forge_minimal_reader
runs=${RUNS:-5}
(( runs >= 5 )) || runs=5
sizes=("${@:-10000 100000}")
sizes=(${sizes[@]})
for tool in "$forge" "$reader"; do
  [ -x "$tool" ] || { echo "hash_compare: $tool is missing: build the default preset" >&2; exit 2; }
done

# OpenSSL's single-core SHA-256 speed in bytes/s (16 KiB blocks, the EVP interface Forge uses).
sha_speed=$(openssl speed -seconds 1 -evp sha256 -bytes 16384 2>/dev/null |
            awk '/^sha256/ {v = $NF; sub(/k$/, "", v); print v * 1000}')

for n in "${sizes[@]}"; do
  tree=/tmp/forge-bench-tree-$n
  [ -d "$tree" ] || python3 benchmarks/make_tree.py --files "$n" --seed 42 --out "$tree" >/dev/null
  list=/tmp/forge-bench-list-$n
  (cd "$tree" && find . -type f -print0) > "$list"
  # The reader's two halves: every other path, so both get a like mix of sizes.
  tr '\0' '\n' < "$list" | awk 'NR % 2 == 1' | tr '\n' '\0' > "$list.odd"
  tr '\0' '\n' < "$list" | awk 'NR % 2 == 0' | tr '\n' '\0' > "$list.even"
  bytes=$(cd "$tree" && find . -type f -printf '%s\n' | awk '{s += $1} END {print s}')
  files=$(tr -cd '\0' < "$list" | wc -c)
  cat "$list" | (cd "$tree" && xargs -0 cat) > /dev/null  # warm the page cache
  echo "== tree: $files files, $((bytes / 1024 / 1024)) MiB ($tree), warm cache, median of $runs"
  peers=(
    "sha256sum-P2" "xargs -0 -P2 -n 500 sha256sum < $list"
    "openssl-P2" "xargs -0 -P2 -n 500 openssl dgst -sha256 < $list"
    "xxhsum-H2-P2" "xargs -0 -P2 -n 500 xxhsum -H2 < $list"
  )
  command -v b3sum >/dev/null && peers+=("b3sum" "xargs -0 -n 2000 b3sum < $list")
  results=$(cd "$tree" && measure \
    "floor(reader-P2)" "$reader < $list.odd & $reader < $list.even; wait" \
    "forge-xxh3" "$forge hash --no-agent --algo xxh3 - < $list" \
    "forge-sha256" "$forge hash --no-agent --algo sha256 - < $list" \
    "forge-xxh3-DIR" "$forge hash --no-agent --algo xxh3 ." \
    "forge-sha256-DIR" "$forge hash --no-agent --algo sha256 ." \
    "forge-fallback-sha256" "$forge hash --no-agent --backend fallback --algo sha256 - < $list" \
    "forge-startup" "$forge --version" \
    "${peers[@]}")
  field() { echo "$results" | awk -v n="$1" -v f="$2" '$1 == n {print $f}'; }
  floor=$(field "floor(reader-P2)" 2)
  sha_floor=$(awk -v f="$floor" -v b="$bytes" -v s="$sha_speed" 'BEGIN {print f + b / (2 * s)}')
  best_peer=$(echo "$results" | grep -E '^(sha256sum|openssl)' | awk '{print $2}' | sort -g | head -1)
  printf '%-24s %8s %8s %10s %8s %9s\n' command wall-s cpu-s files/s MB/s vs-sha-peer
  echo "$results" | while read -r name wall cpu; do
    awk -v n="$name" -v w="$wall" -v c="$cpu" -v f="$files" -v b="$bytes" -v p="$best_peer" \
      'BEGIN { w = (w < 0.001) ? 0.001 : w;
               printf "%-24s %8.3f %8.3f %10.0f %8.1f %8.2fx\n", n, w, c, f/w, b/w/1e6, w/p }'
  done
  printf 'sha-floor (floor + %.0f MB / (2 x %.0f MB/s openssl)): %.3f s\n' \
    "$(awk -v b="$bytes" 'BEGIN {print b / 1e6}')" "$(awk -v s="$sha_speed" 'BEGIN {print s / 1e6}')" \
    "$sha_floor"
  echo "ratios (wall; cpu where both sides have one):"
  echo "  forge xxh3 / floor         $(ratio "$(field forge-xxh3 2)" "$floor")   cpu $(ratio "$(field forge-xxh3 3)" "$(field "floor(reader-P2)" 3)")   target <= 1.05"
  echo "  forge sha256 / sha-floor   $(ratio "$(field forge-sha256 2)" "$sha_floor")   target <= 1.10"
  echo "  forge hash DIR / hash -    xxh3 $(ratio "$(field forge-xxh3-DIR 2)" "$(field forge-xxh3 2)")   sha256 $(ratio "$(field forge-sha256-DIR 2)" "$(field forge-sha256 2)")"
  echo "  forge sha256 / sha256 peer $(ratio "$(field forge-sha256 2)" "$best_peer")"
  if [ "${COLD:-0}" = 1 ] && [ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/drop_caches ]; then
    echo "-- cold cache (COLD=1: one run each, every cache dropped before each run)"
    for cmd in "forge-sha256|$forge hash --no-agent --algo sha256 - < $list" \
               "forge-fallback-sha256|$forge hash --no-agent --backend fallback --algo sha256 - < $list" \
               "sha256sum-P2|xargs -0 -P2 -n 500 sha256sum < $list" \
               "floor(reader-P2)|$reader < $list.odd & $reader < $list.even; wait"; do
      name=${cmd%%|*}; c=${cmd#*|}
      sync; echo 3 > /proc/sys/vm/drop_caches
      t0=$(now); (cd "$tree" && bash -c "$c" >/dev/null 2>&1 || true); t1=$(now)
      printf '%-24s %8.3f s\n' "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')"
    done
  fi
done
