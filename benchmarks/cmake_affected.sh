#!/usr/bin/env bash
# `forge cmake affected --files <one header>` end to end on a generated CMake project of
# TARGETS static libraries (default 2000) with SOURCES_PER_TARGET sources each (default 10:
# 20,000 sources) and one header per library included by its sources and by the next
# library's sources. Configured with
# Ninja; not built (20,000 compiles do not fit a shared 2-core box), so headers map through
# include directories (the conservative path, which reads the same reply). Libraries form
# chains of 10 (lib k links lib k-1 within a chain), each chain ends in an executable and a
# test. Reports the
# median wall time of $RUNS runs (default 5) and the peak RSS (GNU time), end to end
# (--no-cache) and with the model cached in BUILD/.forge/cmake (the issue's target: 100 ms).
#   benchmarks/cmake_affected.sh [TARGETS] [SOURCES_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
. benchmarks/lib.sh
forge=${FORGE:-$PWD/build/default/cli/forge}
targets=${1:-2000}
per=${2:-10}
runs=${RUNS:-5}
root=/tmp/forge-cmake-bench-$targets-$per
src=$root/src
build=$root/build

if [ ! -f "$build/build.ninja" ]; then
  rm -rf "$root"
  mkdir -p "$src"
  python3 - "$src" "$targets" "$per" <<'PY'
import os, sys
src, targets, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lines = ["cmake_minimum_required(VERSION 3.20)", "project(bench CXX)", "enable_testing()"]
for t in range(targets):
    d = os.path.join(src, f"lib{t}")
    os.makedirs(os.path.join(d, "include"), exist_ok=True)
    open(os.path.join(d, "include", f"lib{t}.h"), "w").write(f"int lib{t}_f0();\n")
    srcs = []
    for s in range(per):
        name = f"lib{t}/s{s}.cc"
        inc = f'#include "lib{t}.h"\n' + (f'#include "lib{t-1}.h"\n' if t % 10 else "")
        open(os.path.join(src, name), "w").write(inc + f"int lib{t}_f{s}() {{ return {s}; }}\n")
        srcs.append(name)
    lines.append(f"add_library(lib{t} STATIC {' '.join(srcs)})")
    lines.append(f"target_include_directories(lib{t} PUBLIC lib{t}/include)")
    if t % 10:
        lines.append(f"target_link_libraries(lib{t} PUBLIC lib{t-1})")
    if t % 10 == 9:
        open(os.path.join(d, "main.cc"), "w").write(f'#include "lib{t}.h"\nint main() {{ return lib{t}_f0(); }}\n')
        lines.append(f"add_executable(exe{t} lib{t}/main.cc)")
        lines.append(f"target_link_libraries(exe{t} PRIVATE lib{t})")
        lines.append(f"add_test(NAME test{t} COMMAND exe{t})")
open(os.path.join(src, "CMakeLists.txt"), "w").write("\n".join(lines) + "\n")
PY
  "$forge" cmake query -B "$build" >/dev/null
  t0=$(now)
  cmake -S "$src" -B "$build" -G Ninja >/dev/null
  t1=$(now)
  echo "configure: $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"
fi

header=$src/lib$((targets / 2))/include/lib$((targets / 2)).h
cmd=("$forge" cmake affected -B "$build" --json --files "$header")
"${cmd[@]}" --no-cache > "$root/answer.json"
python3 - "$root/answer.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
print(f"answer: {len(a['directly_affected'])} direct, {len(a['transitively_affected'])} transitive, {len(a['tests'])} tests")
PY
# Median wall time of $runs runs of "${cmd[@]}" plus the given extra arguments.
measure() {
  local times=()
  for _ in $(seq "$runs"); do
    t0=$(now); "${cmd[@]}" "$@" >/dev/null; t1=$(now)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print (b - a) * 1000}')")
  done
  printf '%s\n' "${times[@]}" | median
}
peak_rss() { { /usr/bin/time -f '%M' "${cmd[@]}" "$@" >/dev/null; } 2>&1 | tail -1; }
echo "== $targets targets, $((targets * per)) sources: forge cmake affected --files <one header>"
echo "end to end (--no-cache: reply, ninja -t deps, ctest): median $(measure --no-cache) ms" \
     "(of $runs), peak RSS $(( $(peak_rss --no-cache) / 1024 )) MiB"
"${cmd[@]}" >/dev/null  # fills the model cache (BUILD/.forge/cmake)
echo "model cached in LMDB: median $(measure) ms (of $runs), peak RSS $(( $(peak_rss) / 1024 )) MiB"
