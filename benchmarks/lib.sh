# shellcheck shell=bash
# Shared helpers for the benchmark scripts: `. "$(dirname "$0")/lib.sh"`.
# Times are wall seconds; every figure a script prints is a median (the machines are noisy).

# median: the median of the numbers on stdin, one per line.
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# now: seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }

# timed SETUP CMD: median wall seconds of CMD over $runs runs (default 5), SETUP run before
# each (untimed). Both run under bash -c with their output discarded.
timed() {
  local setup=$1 cmd=$2 times=() t0 t1
  for _ in $(seq "${runs:-5}"); do
    bash -c "$setup" >/dev/null 2>&1
    t0=$(now)
    bash -c "$cmd" >/dev/null 2>&1
    t1=$(now)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  done
  printf '%s\n' "${times[@]}" | median
}

# measure NAME CMD [NAME CMD]...: $runs runs (default 5) of each (name, command) pair,
# interleaved so that load spikes hit every command alike; prints "NAME wall_median
# cpu_median" lines (CPU = user + sys).
measure() {
  local -a names=() cmds=()
  while (( $# )); do names+=("$1"); cmds+=("$2"); shift 2; done
  local dir i k
  dir=$(mktemp -d)
  for i in $(seq "${runs:-5}"); do
    for k in "${!names[@]}"; do
      /usr/bin/time -o "$dir/t" -f "%e %U %S" bash -c "${cmds[$k]}" >/dev/null 2>&1 || true
      read -r e u s < "$dir/t"
      echo "$e" >> "$dir/wall.$k"
      awk -v u="$u" -v s="$s" 'BEGIN {print u + s}' >> "$dir/cpu.$k"
    done
  done
  for k in "${!names[@]}"; do
    printf '%s %s %s\n' "${names[$k]}" "$(median < "$dir/wall.$k")" "$(median < "$dir/cpu.$k")"
  done
  rm -rf "$dir"
}

# ratio A B: A / B with two decimals ("n/a" when B is zero).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "n/a"; else printf "%.2f\n", a / b}'; }

# bench_work NAME: makes $work, a temporary directory, and on exit stops (SIGTERM, then
# waits for) every process given to stop_on_exit and removes $work.
bench_work() {
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  bench_pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  local pid
  for pid in "${bench_pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
stop_on_exit() { bench_pids+=("$1"); }

# bench_tree DIR FILES SEED [MEDIAN_KIB]: a make_tree.py tree at DIR, kept between runs
# (made only when DIR is missing), then read once so the page cache is warm.
bench_tree() {
  local dir=$1 files=$2 seed=$3 kib=${4:-}
  if [ ! -d "$dir" ]; then
    python3 "$(dirname "${BASH_SOURCE[0]}")/make_tree.py" --files "$files" --seed "$seed" \
      ${kib:+--median-kib "$kib"} --out "$dir" >/dev/null
  fi
  (cd "$dir" && find . -type f -print0 | xargs -0 cat > /dev/null)
}
