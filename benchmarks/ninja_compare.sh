#!/usr/bin/env bash
# `forge ninja` vs plain `ninja` side by side on a generated Ninja project (issue 11).
# EDGES copy edges (`cp src/N.txt out/N.out`), grouped under GROUPS concatenation edges, in
# two identical build dirs: A is driven by `forge ninja`, B by plain `ninja`. Measures
#   1. the no-op: nothing changed (median of ROUNDS wall times, and CPU time), then again
#      with `forge watch --update-index` keeping A's scan index warm;
#   2. after `touch` of every input (what a branch switch and back does): forge ninja
#      settles and runs nothing, plain ninja reruns every edge.
# Prints wall times and the number of edges each run executed. Then the same no-op and
# touch-everything comparison on a real CMake + Ninja C++ project (the one of
# tests/integration/ninja_cmake_test.cpp: CMAKE_UNITS library TUs, 4 group headers, a static
# library, 4 executables, a code generator under `forge ninja keep-if-same`), configured
# twice from one source tree (A: forge ninja, B: plain ninja).
# Usage: benchmarks/ninja_compare.sh [build/default/cli/forge]
#        (env: EDGES=10000 JOINS=100 ROUNDS=5 CMAKE_UNITS=48 (0: skip) FORGE_BENCH_DIR=/tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
forge=$(realpath "${1:-build/default/cli/forge}")
edges=${EDGES:-10000}
groups=${JOINS:-100}
rounds=${ROUNDS:-5}
units=${CMAKE_UNITS:-48}
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

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
# noop_rounds DIR LABEL: $rounds no-ops of forge ninja on DIR/a, each beside plain ninja's
# on DIR/b; prints the medians and their ratio.
noop_rounds() {
  local forge_times=() ninja_times=() r t forge_median ninja_median
  for ((r = 0; r < rounds; r++)); do
    t=$(date +%s%N); "$forge" ninja -C "$1/a" >/dev/null; forge_times+=("$(ms "$t")")
    t=$(date +%s%N); ninja -C "$1/b" >/dev/null; ninja_times+=("$(ms "$t")")
  done
  forge_median=$(printf '%s\n' "${forge_times[@]}" | median)
  ninja_median=$(printf '%s\n' "${ninja_times[@]}" | median)
  echo "$2 (median of $rounds):   forge ninja ${forge_median} ms   plain ninja ${ninja_median} ms" \
       "  ratio $(awk -v a="$forge_median" -v b="$ninja_median" 'BEGIN {printf "%.2f", a / b}')"
}
# touch_round DIR INDENT: forge ninja on DIR/a, then plain ninja on DIR/b, after the caller
# touched their inputs; prints both wall times and edges run, and what ninja -n says after.
touch_round() {
  local t forge_ran forge_ms ninja_ran ninja_ms
  t=$(date +%s%N); forge_ran=$("$forge" ninja -C "$1/a" 2>/dev/null | ran); forge_ms=$(ms "$t")
  t=$(date +%s%N); ninja_ran=$(ninja -C "$1/b" | ran); ninja_ms=$(ms "$t")
  echo "$2  forge ninja ${forge_ms} ms, ${forge_ran} edges run"
  echo "$2  plain ninja ${ninja_ms} ms, ${ninja_ran} edges run"
  echo "$2then: $(ninja -C "$1/a" -n | tail -1)"
}
# The first no-op after a record proves the build clean and writes the clean stamp
# (DIR/.forge/ninja-clean); the rounds then measure the stamp's path.
"$forge" ninja -C "$work/a" >/dev/null
noop_rounds "$work" "no-op"
if command -v perf >/dev/null && perf stat -e task-clock true >/dev/null 2>&1; then
  cpu() { perf stat -x, -r "$rounds" -e task-clock "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ {printf "%.0f", $1}'; }
  echo "no-op CPU (task-clock incl. children, mean of $rounds): forge ninja $(cpu "$forge" ninja -C "$work/a") ms" \
       "  plain ninja $(cpu ninja -C "$work/b") ms"
fi

# The same no-op with the scan index of A kept warm by `forge watch --update-index`: the
# clean stamp then asks the index what changed since its cursor and stats no source
# (issue 11). The index lives outside the trees (XDG_CACHE_HOME).
export XDG_CACHE_HOME="$work/cache"
"$forge" watch "$work/a" --update-index >"$work/watch.log" 2>&1 &
watcher=$!
trap 'kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null; rm -rf "$work"' EXIT
# Until the keeper has scanned and claimed the index, a full settle stamps without a cursor.
for ((i = 0; i < 120; i++)); do
  rm -f "$work/a/.forge/ninja-clean"
  "$forge" ninja -C "$work/a" >/dev/null  # a full settle: stamps at the index's cursor
  "$forge" ninja settle -C "$work/a" | grep -q 'chosen by the scan index' && break
  sleep 0.5
done
echo "settle with the index kept warm: $("$forge" ninja settle -C "$work/a" | tail -1)"
noop_rounds "$work" "no-op, index warm"
kill "$watcher"; wait "$watcher" 2>/dev/null || true
echo "settle without a keeper: $("$forge" ninja settle -C "$work/a" | tail -1)"
unset XDG_CACHE_HOME

find "$work/a/src" "$work/b/src" -type f -exec touch {} +
echo "after touching all $edges inputs:"
touch_round "$work" ""

[ "$units" -gt 0 ] || exit 0
# --- The real CMake project ---
cm="$work/cmake"
mkdir -p "$cm/src"
{
  echo 'cmake_minimum_required(VERSION 3.20)'
  echo 'project(demo CXX)'
  echo 'add_executable(gen gen.cc)'
  echo "add_custom_command(OUTPUT generated.h COMMAND $forge ninja keep-if-same generated.h --" \
       '$<TARGET_FILE:gen> ${CMAKE_CURRENT_SOURCE_DIR}/spec.txt generated.h DEPENDS gen spec.txt)'
  printf 'add_library(core STATIC'
  for ((i = 0; i < units; i++)); do printf ' u%d.cc' "$i"; done
  echo ')'
  echo 'target_include_directories(core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})'
  for ((a = 0; a < 4; a++)); do
    echo "add_executable(app$a main$a.cc \${CMAKE_CURRENT_BINARY_DIR}/generated.h)"
    echo "target_include_directories(app$a PRIVATE \${CMAKE_CURRENT_BINARY_DIR})"
    echo "target_link_libraries(app$a core)"
  done
} >"$cm/src/CMakeLists.txt"
printf '#pragma once\ninline int common() { return 1; }\n' >"$cm/src/common.h"
for ((g = 0; g < 4; g++)); do
  printf '#pragma once\nconstexpr int k_group = %d;\n' "$g" >"$cm/src/group$g.h"
done
for ((i = 0; i < units; i++)); do
  printf '#include "common.h"\n#include "group%d.h"\nint unit%d() { return common() + k_group + %d; }\n' \
    $((i % 4)) "$i" "$i" >"$cm/src/u$i.cc"
done
for ((a = 0; a < 4; a++)); do
  printf '#include "generated.h"\nint unit%d();\nint main() { return unit%d() - k_generated; }\n' \
    "$a" "$a" >"$cm/src/main$a.cc"
done
cat >"$cm/src/gen.cc" <<'GEN'
#include <fstream>
#include <string>
int main(int, char** argv) {
  std::ifstream in(argv[1]); std::ofstream out(argv[2]); std::string line;
  out << "#pragma once\n";
  while (std::getline(in, line)) if (!line.empty() && line[0] != '#') out << line << "\n";
}
GEN
printf '# spec\nconstexpr int k_generated = 7;\n' >"$cm/src/spec.txt"
for side in a b; do
  cmake -G Ninja -DCMAKE_BUILD_TYPE=Debug -S "$cm/src" -B "$cm/$side" >/dev/null
done
echo
echo "real CMake project: $units library TUs + 4 executables + a generator ($(ninja -C "$cm/b" -t targets all | grep -c ': ') targets)"
t=$(date +%s%N); forge_ran=$("$forge" ninja -C "$cm/a" 2>/dev/null | ran); forge_ms=$(ms "$t")
t=$(date +%s%N); ninja_ran=$(ninja -C "$cm/b" | ran); ninja_ms=$(ms "$t")
echo "  first build:  forge ninja ${forge_ms} ms (${forge_ran} edges)   plain ninja ${ninja_ms} ms (${ninja_ran} edges)"
sleep 0.2
"$forge" ninja -C "$cm/a" >/dev/null  # proves the build clean: writes the clean stamp
noop_rounds "$cm" "  no-op"
find "$cm/src" -type f -exec touch {} +
echo "  after touching every source and header:"
touch_round "$cm" "  "
