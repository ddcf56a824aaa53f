#!/usr/bin/env bash
# `forge ninja` vs plain `ninja` side by side on a generated Ninja project (issue 11).
# EDGES copy edges (`cp src/N.txt out/N.out`), grouped under GROUPS concatenation edges, in
# two identical build dirs: A is driven by `forge ninja`, B by plain `ninja`. Measures
#   1. the no-op: nothing changed (best of ROUNDS);
#   2. after `touch` of every input (what a branch switch and back does): forge ninja
#      settles and runs nothing, plain ninja reruns every edge.
# Prints wall times and the number of edges each run executed.
# Usage: benchmarks/ninja_compare.sh [build/default/cli/forge]
#        (env: EDGES=10000 JOINS=100 ROUNDS=5 FORGE_BENCH_DIR=/tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
forge=$(realpath "${1:-build/default/cli/forge}")
edges=${EDGES:-10000}
groups=${JOINS:-100}
rounds=${ROUNDS:-5}
work=$(mktemp -d "${FORGE_BENCH_DIR:-/tmp}/forge-ninja-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

generate() {  # generate DIR
  mkdir -p "$1/src" "$1/out"
  {
    printf 'rule cp\n  command = cp $in $out\nrule cat\n  command = cat $in > $out\n'
    for ((i = 0; i < edges; i++)); do printf 'build out/%d.out: cp src/%d.txt\n' "$i" "$i"; done
    for ((g = 0; g < groups; g++)); do
      printf 'build out/group%d: cat' "$g"
      for ((i = g; i < edges; i += groups)); do printf ' out/%d.out' "$i"; done
      printf '\n'
    done
  } >"$1/build.ninja"
  for ((i = 0; i < edges; i++)); do echo "$i" >"$1/src/$i.txt"; done
}

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
ran() { grep -c '^\[' || true; }  # edges a ninja run printed

echo "generating 2 x $edges edges (+ $groups groups) in $work"
generate "$work/a"
generate "$work/b"
ninja -C "$work/a" >/dev/null
ninja -C "$work/b" >/dev/null
"$forge" ninja -C "$work/a" >/dev/null  # records
# The first run after a build records; let the records' racy window pass.
sleep 0.2

best_forge=999999
best_ninja=999999
for ((r = 0; r < rounds; r++)); do
  t=$(date +%s%N); "$forge" ninja -C "$work/a" >/dev/null; d=$(ms "$t")
  ((d < best_forge)) && best_forge=$d
  t=$(date +%s%N); ninja -C "$work/b" >/dev/null; d=$(ms "$t")
  ((d < best_ninja)) && best_ninja=$d
done
echo "no-op (best of $rounds):   forge ninja ${best_forge} ms   plain ninja ${best_ninja} ms"

find "$work/a/src" "$work/b/src" -type f -exec touch {} +
t=$(date +%s%N); forge_ran=$("$forge" ninja -C "$work/a" 2>/dev/null | ran); forge_ms=$(ms "$t")
t=$(date +%s%N); ninja_ran=$(ninja -C "$work/b" | ran); ninja_ms=$(ms "$t")
echo "after touching all $edges inputs:"
echo "  forge ninja ${forge_ms} ms, ${forge_ran} edges run"
echo "  plain ninja ${ninja_ms} ms, ${ninja_ran} edges run"
echo "then: $(ninja -C "$work/a" -n | tail -1)"
